"""CloudFront, the site bucket, /config.json, alarms and the stack outputs."""

from __future__ import annotations

import re
from typing import Any

from infra import names, security_headers
from infra.constructs.edge import WEBSOCKET_HEADERS
from speedrun import manifest
from speedrun.adapters.tokens import Keyring
from tests.infra.infra_template import Synth, referenced_ids

MANAGED_CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def distribution_config(synth: Synth) -> dict[str, Any]:
    return synth.resources[synth.logical_id(synth.stack.edge.distribution)]["Properties"]["DistributionConfig"]


def behaviors(synth: Synth) -> dict[str, dict[str, Any]]:
    return {b["PathPattern"]: b for b in distribution_config(synth)["CacheBehaviors"]}


def origin_of(synth: Synth, behavior: dict[str, Any]) -> dict[str, Any]:
    (origin,) = [o for o in distribution_config(synth)["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    return origin


def ssl_only(statements: list[dict[str, Any]], logical_id: str) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s["Action"] == "s3:*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and {"Fn::GetAtt": [logical_id, "Arn"]} in s["Resource"]
        for s in statements
    )


def bucket_policy_statements(synth: Synth, logical_id: str) -> list[dict[str, Any]]:
    return [
        s
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_buckets_are_private_encrypted_and_ssl_only(synth: Synth) -> None:
    site_id = synth.logical_id(synth.stack.edge.site_bucket)
    log_id = synth.logical_id(synth.stack.edge.log_bucket)
    for bucket_id in (site_id, log_id):
        bucket = synth.resources[bucket_id]["Properties"]
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert ssl_only(bucket_policy_statements(synth, bucket_id), bucket_id)
    site = synth.resources[site_id]["Properties"]
    assert site["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_id}
    assert site["VersioningConfiguration"] == {"Status": "Enabled"}


def test_site_is_served_through_origin_access_control_only(synth: Synth) -> None:
    config = distribution_config(synth)
    default_origin = origin_of(synth, config["DefaultCacheBehavior"])
    site_id = synth.logical_id(synth.stack.edge.site_bucket)
    assert referenced_ids(default_origin["DomainName"]) == {site_id}
    (oac_id,) = referenced_ids(default_origin["OriginAccessControlId"])
    oac = synth.resources[oac_id]["Properties"]["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always"
    assert oac["OriginAccessControlOriginType"] == "s3"
    grants = [s for s in bucket_policy_statements(synth, site_id) if s["Effect"] == "Allow"]
    assert [g["Principal"] for g in grants] == [{"Service": "cloudfront.amazonaws.com"}]
    assert grants[0]["Action"] == "s3:GetObject"
    assert referenced_ids(grants[0]["Condition"]) == {synth.logical_id(synth.stack.edge.distribution)}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    assert referenced_ids(config["Logging"]["Bucket"]) == {synth.logical_id(synth.stack.edge.log_bucket)}


def test_api_behavior_forwards_to_the_http_api_uncached(synth: Synth) -> None:
    api = behaviors(synth)[names.API_PATH_PATTERN]
    assert api["CachePolicyId"] == MANAGED_CACHING_DISABLED
    # AllViewerExceptHostHeader: every viewer header but Host, plus (AWS documents) the device type and
    # viewer location CloudFront headers, `CloudFront-Viewer-Address` among them, which sign-on's
    # join-flood limits key on. No custom policy could do better: one that forwards all viewer headers
    # and names CloudFront headers also forwards Host (API Gateway refuses it), and an allow-list may
    # not name Authorization.
    assert api["OriginRequestPolicyId"] == MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER, "forwards CloudFront-Viewer-Address"
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "PUT", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "https-only"
    origin = origin_of(synth, api)
    assert referenced_ids(origin["DomainName"]) == {synth.logical_id(synth.stack.http_api.api)}
    assert origin["CustomOriginConfig"] == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}


def test_ws_behavior_forwards_the_handshake_to_the_websocket_stage(synth: Synth) -> None:
    ws = behaviors(synth)[names.WS_PATH]
    assert ws["CachePolicyId"] == MANAGED_CACHING_DISABLED
    origin = origin_of(synth, ws)
    assert referenced_ids(origin["DomainName"]) == {synth.logical_id(synth.stack.websocket_api.api)}
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    (policy_id,) = referenced_ids(ws["OriginRequestPolicyId"])
    policy = synth.resources[policy_id]["Properties"]["OriginRequestPolicyConfig"]
    assert policy["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert policy["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert set(policy["HeadersConfig"]["Headers"]) == set(WEBSOCKET_HEADERS)
    (association,) = ws["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    (function_id,) = referenced_ids(association["FunctionARN"])
    code = synth.resources[function_id]["Properties"]["FunctionCode"]
    assert "request.uri = '/dev';" in code, "rewrites /ws to the WebSocket stage"


def test_security_headers_are_strict(synth: Synth) -> None:
    config = distribution_config(synth)
    policy_ref = config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    assert behaviors(synth)[names.API_PATH_PATTERN]["ResponseHeadersPolicyId"] == policy_ref
    headers = synth.resources[policy_ref["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    parts = csp["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "<region>" for part in parts)
    assert "default-src 'self'" in text
    assert "connect-src 'self' wss: https://cognito-idp.<region>.amazonaws.com" in text
    assert "frame-ancestors 'none'" in text
    assert "unsafe-inline" not in text and "unsafe-eval" not in text
    # One definition for CloudFront and the local gateway (infra.security_headers).
    assert text == security_headers.content_security_policy("https://cognito-idp.<region>.amazonaws.com")
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == security_headers.HSTS_MAX_AGE_S


def test_site_deployment_writes_config_json_with_the_contract_keys(synth: Synth) -> None:
    (deployment,) = synth.of_type("Custom::CDKBucketDeployment").values()
    properties = deployment["Properties"]
    assert properties["DestinationBucketName"] == {"Ref": synth.logical_id(synth.stack.edge.site_bucket)}
    assert properties["DistributionPaths"] == ["/*"]
    config_files = [p for p in synth.outdir.glob("asset.*/config.json")]
    (config_file,) = config_files
    keys = re.findall(r'"(\w+)":<<marker', config_file.read_text())
    assert keys == ["api_url", "ws_url", "region", "user_pool_id", "user_pool_client_id"]
    markers = next(m for m in properties["SourceMarkers"] if m)
    values = list(markers.values())
    distribution_id = synth.logical_id(synth.stack.edge.distribution)
    assert values[0]["Fn::Join"][1] == ['"https://', {"Fn::GetAtt": [distribution_id, "DomainName"]}, '/api"']
    assert values[1]["Fn::Join"][1] == ['"wss://', {"Fn::GetAtt": [distribution_id, "DomainName"]}, '/ws"']
    assert referenced_ids(values[3]) == {synth.logical_id(synth.stack.identity.user_pool)}
    assert referenced_ids(values[4]) == {synth.logical_id(synth.stack.identity.client)}


def test_outputs(synth: Synth) -> None:
    outputs = synth.json["Outputs"]
    distribution_id = synth.logical_id(synth.stack.edge.distribution)
    domain = {"Fn::GetAtt": [distribution_id, "DomainName"]}
    assert outputs[names.OUTPUT_SITE_URL]["Value"]["Fn::Join"][1] == ["https://", domain]
    assert outputs[names.OUTPUT_API_URL]["Value"]["Fn::Join"][1] == ["https://", domain, "/api"]
    assert outputs[names.OUTPUT_WS_URL]["Value"]["Fn::Join"][1] == ["wss://", domain, "/ws"]
    assert outputs[names.OUTPUT_USER_POOL_ID]["Value"] == {"Ref": synth.logical_id(synth.stack.identity.user_pool)}
    assert outputs[names.OUTPUT_USER_POOL_CLIENT_ID]["Value"] == {"Ref": synth.logical_id(synth.stack.identity.client)}


def test_alarms_cover_every_dead_letter_queue_and_every_function(synth: Synth) -> None:
    topic_id = synth.logical_id(synth.stack.monitoring.topic)
    alarms = [a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    watched = {
        (alarm["MetricName"], next(iter(referenced_ids(alarm["Dimensions"])), None))
        for alarm in alarms
        if "Dimensions" in alarm
    }
    for queue in manifest.QUEUES:
        dlq_id = synth.logical_id(synth.stack.queues.dead_letter_queues[queue.name])
        assert ("ApproximateNumberOfMessagesVisible", dlq_id) in watched
    for function in manifest.FUNCTIONS:
        function_id = synth.function(function.name)[0]
        assert ("Errors", function_id) in watched
        assert ("Throttles", function_id) in watched


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_ssl_only(synth: Synth) -> None:
    topic_id = synth.logical_id(synth.stack.monitoring.topic)
    topic = synth.resources[topic_id]["Properties"]
    (key_id,) = referenced_ids(topic["KmsMasterKeyId"])
    key = synth.resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    principals = [s.get("Principal") for s in key["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals
    statements = [
        s
        for p in synth.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_token_keyring_embeds_the_generated_key_in_the_shape_tokens_reads(synth: Synth) -> None:
    secret = synth.resources[synth.logical_id(synth.stack.token_secret.secret)]["Properties"]
    parts = secret["SecretString"]["Fn::Join"][1]
    assert parts[0] == '{"current": "k1", "keys": {"k1": "{{resolve:secretsmanager:'
    assert parts[2] == ':SecretString:::}}"}}'
    (seed_id,) = referenced_ids(parts[1])
    seed = synth.resources[seed_id]["Properties"]["GenerateSecretString"]
    assert seed == {"ExcludePunctuation": True, "PasswordLength": 64}
    # What CloudFormation stores once it resolved the reference, read the way the functions read it.
    generated = ("Zq7" * 22)[:64]
    resolved = (
        parts[0].removesuffix("{{resolve:secretsmanager:") + generated + parts[2].removeprefix(":SecretString:::}}")
    )
    keyring = Keyring.from_secret(resolved)
    assert keyring.current_kid == "k1"
    assert len(keyring.keys["k1"]) == 48
