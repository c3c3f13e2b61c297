"""Question images deployed: a private bucket, CloudFront's `/images/*` behaviour through origin access
control with the objects' long caching and the site's security headers, the one function that stores
images granted its objects only, and Pillow in the arm64 dependencies layer."""

from __future__ import annotations

from typing import Any

from infra.constructs.edge import IMAGES_PATH_PATTERN
from speedrun import manifest
from speedrun.adapters import image_store
from tests.infra.infra_template import Synth, actions_of, referenced_ids
from tests.infra.test_infra_edge import behaviors, bucket_policy_statements, distribution_config, origin_of, ssl_only


def image_bucket_id(synth: Synth) -> str:
    return synth.logical_id(synth.stack.edge.image_bucket)


def test_the_image_bucket_is_private_encrypted_ssl_only_logged_and_kept_like_the_site(synth: Synth) -> None:
    bucket_id = image_bucket_id(synth)
    bucket = synth.resources[bucket_id]
    properties = bucket["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert ssl_only(bucket_policy_statements(synth, bucket_id), bucket_id)
    assert properties["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(synth.stack.edge.log_bucket)},
        "LogFilePrefix": "images/",
    }
    assert "VersioningConfiguration" not in properties, "content-addressed: an object never changes"
    site = synth.resources[synth.logical_id(synth.stack.edge.site_bucket)]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == (
        site["DeletionPolicy"],
        site["UpdateReplacePolicy"],
    )


def test_only_the_distribution_reads_the_image_bucket(synth: Synth) -> None:
    bucket_id = image_bucket_id(synth)
    grants = [s for s in bucket_policy_statements(synth, bucket_id) if s["Effect"] == "Allow"]
    assert [grant["Principal"] for grant in grants] == [{"Service": "cloudfront.amazonaws.com"}]
    assert grants[0]["Action"] == "s3:GetObject"
    assert referenced_ids(grants[0]["Condition"]) == {synth.logical_id(synth.stack.edge.distribution)}


def test_images_are_served_at_their_path_through_origin_access_control(synth: Synth) -> None:
    assert IMAGES_PATH_PATTERN == "/images/*" == manifest.IMAGE_PATH_PREFIX + "*"
    images = behaviors(synth)[IMAGES_PATH_PATTERN]
    origin = origin_of(synth, images)
    assert referenced_ids(origin["DomainName"]) == {image_bucket_id(synth)}
    (oac_id,) = referenced_ids(origin["OriginAccessControlId"])
    oac = synth.resources[oac_id]["Properties"]["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == ("always", "s3")
    assert sorted(images["AllowedMethods"]) == ["GET", "HEAD"]
    assert images["ViewerProtocolPolicy"] == "https-only"


def test_the_image_cache_honours_a_years_cache_control_and_keys_on_the_path_alone(synth: Synth) -> None:
    images = behaviors(synth)[IMAGES_PATH_PATTERN]
    (policy_id,) = referenced_ids(images["CachePolicyId"])
    config = synth.resources[policy_id]["Properties"]["CachePolicyConfig"]
    assert (config["MinTTL"], config["MaxTTL"]) == (0, image_store.MAX_AGE_S)
    assert f"max-age={config['MaxTTL']}" in image_store.CACHE_CONTROL
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_images_carry_nosniff_and_the_sites_security_headers(synth: Synth) -> None:
    config = distribution_config(synth)
    images = behaviors(synth)[IMAGES_PATH_PATTERN]
    assert images["ResponseHeadersPolicyId"] == config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    policy = synth.resources[images["ResponseHeadersPolicyId"]["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]
    assert policy["SecurityHeadersConfig"]["ContentTypeOptions"] == {"Override": True}


def _s3_statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    return [s for s in synth.role_statements(name) if any(a.startswith("s3:") for a in actions_of([s]))]


def test_only_the_question_set_function_may_touch_images_and_only_their_objects(synth: Synth) -> None:
    storing = {spec.name for spec in manifest.FUNCTIONS if spec.needs.images is not None}
    assert storing == {"question_sets"}
    assert manifest.function("question_sets").needs.images is manifest.Access.WRITE
    (statement,) = _s3_statements(synth, "question_sets")
    assert actions_of([statement]) == {"s3:GetObject", "s3:PutObject"}
    objects = {"Fn::Join": ["", [{"Fn::GetAtt": [image_bucket_id(synth), "Arn"]}, "/images/*"]]}
    assert statement["Resource"] == objects
    for spec in manifest.FUNCTIONS:
        if spec.name not in storing:
            assert _s3_statements(synth, spec.name) == [], spec.name


def test_image_traffic_from_the_vpc_uses_an_s3_gateway_endpoint(synth: Synth) -> None:
    endpoints = [e["Properties"] for e in synth.of_type("AWS::EC2::VPCEndpoint").values()]
    (s3,) = [e for e in endpoints if ".s3" in str(e["ServiceName"])]
    assert s3["VpcEndpointType"] == "Gateway"
    private_route_tables = {
        synth.logical_id(subnet.node.find_child("RouteTable")) for subnet in synth.stack.network.vpc.private_subnets
    }
    assert referenced_ids(s3["RouteTableIds"]) == private_route_tables


def test_the_arm64_dependencies_layer_carries_pillows_compiled_modules(synth: Synth) -> None:
    dependencies = synth.resources[synth.logical_id(synth.stack.layers.dependencies)]["Properties"]
    layer = synth.outdir / f"asset.{dependencies['Content']['S3Key'].removesuffix('.zip')}" / "python"
    assert list((layer / "PIL").glob("_imaging.cpython-312-aarch64-linux-gnu.so"))
    assert list((layer / "PIL").glob("_webp.cpython-312-aarch64-linux-gnu.so")), "WebP support is in the wheel"
