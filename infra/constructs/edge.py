"""The one public origin: CloudFront serving the web client (S3, OAC), question images (`/images/*`,
S3, OAC), `/api/*` and `/ws`.

Same origin for the page, the API and the socket, so the browser needs no CORS and the strict CSP
can say `'self'`. `/config.json` is generated at deploy time from the stack's values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import names
from infra.layers import PROJECT_ROOT
from infra.nag import acknowledge, logical_id
from infra.security_headers import FRAME_OPTION, HSTS_MAX_AGE_S, REFERRER_POLICY, content_security_policy
from speedrun import manifest
from speedrun.adapters import image_store

WEB_DIR = PROJECT_ROOT / "web"
WEB_EXCLUDE = [".gitkeep", "**/__pycache__", "node_modules", "*.map", names.WEB_CONFIG_KEY]
"""`/config.json` comes from the stack's values only, never from a local copy in web/."""
IMAGES_PATH_PATTERN = f"{manifest.IMAGE_PATH_PREFIX}*"
"""The images' behaviour: the request path `/images/<key>` is the bucket's object `images/<key>`."""
WEBSOCKET_HEADERS = (
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Extensions",
)


def host_of(endpoint: str) -> str:
    """`https://abc.execute-api.eu-west-1.amazonaws.com[/...]` -> the host (works on deploy-time tokens)."""
    return Fn.select(2, Fn.split("/", endpoint))


def websocket_rewrite_code(stage_name: str) -> str:
    """Viewer-request function: `/ws` -> `/<stage>`, the WebSocket API's stage path (query string kept)."""
    return (
        "function handler(event) {\n"
        "  var request = event.request;\n"
        f"  request.uri = '/{stage_name}';\n"
        "  return request;\n"
        "}\n"
    )


def api_origin(endpoint: str) -> origins.HttpOrigin:
    """An API Gateway endpoint as a CloudFront origin, reached over TLS 1.2 only."""
    return origins.HttpOrigin(
        host_of(endpoint),
        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
    )


def empties_on_removal(removal_policy: RemovalPolicy) -> bool:
    """A bucket destroyed with the stack must be emptied first, or CloudFormation cannot delete it."""
    return removal_policy == RemovalPolicy.DESTROY


class Edge(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_api_endpoint: str,
        websocket_api_endpoint: str,
        websocket_stage_name: str,
        web_acl_arn: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_bucket = self._log_bucket(removal_policy)
        self.site_bucket = self._site_bucket(removal_policy)
        self.image_bucket = self._image_bucket(removal_policy)
        security_headers = self._security_headers_policy()
        self.distribution = self._distribution(
            security_headers=security_headers,
            images_behavior=self._images_behavior(security_headers),
            api_behavior=self._api_behavior(http_api_endpoint, security_headers),
            websocket_behavior=self._websocket_behavior(websocket_api_endpoint, websocket_stage_name),
            web_acl_arn=web_acl_arn,
        )

    def _private_bucket(self, name: str, removal_policy: RemovalPolicy, **options: Any) -> s3.Bucket:
        """A bucket no one reaches but through its grants: public access blocked, SSE-S3, TLS only;
        emptied on removal when the removal policy destroys it. `options`: what the bucket adds."""
        return s3.Bucket(
            self,
            name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=removal_policy,
            auto_delete_objects=empties_on_removal(removal_policy),
            **options,
        )

    def _log_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        """The access logs of the site bucket and of CloudFront."""
        bucket = self._private_bucket(
            names.LOG_BUCKET,
            removal_policy,
            # CloudFront standard logs are delivered with ACLs.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        acknowledge(bucket, {"AwsSolutions-S1": "This is the access-log bucket itself."})
        return bucket

    def _site_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        """The web client, private: CloudFront reads it through origin access control."""
        return self._private_bucket(
            names.SITE_BUCKET,
            removal_policy,
            versioned=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="site/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
        )

    def _image_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        """Question images, private: the question-set function writes `images/<key>`, CloudFront reads
        them through origin access control. Not the site bucket: its deployment prunes every object
        that is not in `web/`. Unversioned: a key is its content's hash, so an object never changes."""
        return self._private_bucket(
            names.IMAGE_BUCKET,
            removal_policy,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="images/",
        )

    def _images_behavior(self, security_headers: cloudfront.IResponseHeadersPolicy) -> cloudfront.BehaviorOptions:
        """`/images/*`: the image bucket, cached as long as each object's Cache-Control says (a year,
        `immutable`), keyed on the path alone; the site's security headers, `nosniff` among them, so a
        browser never reads an image as anything but its declared type."""
        cache_policy = cloudfront.CachePolicy(
            self,
            names.IMAGE_CACHE_POLICY,
            comment="Question images: content-hash keys, cached as long as their Cache-Control allows",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.days(1),
            max_ttl=Duration.seconds(image_store.MAX_AGE_S),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            # PNG, JPEG, WebP and GIF are compressed already.
            enable_accept_encoding_gzip=False,
            enable_accept_encoding_brotli=False,
        )
        return cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(self.image_bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cache_policy,
            response_headers_policy=security_headers,
        )

    def _security_headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        """CSP, HSTS, framing, referrer and sniffing headers, overriding whatever an origin sends."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            names.SECURITY_HEADERS,
            comment="Security headers of the speed-run site",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(f"https://cognito-idp.{Aws.REGION}.amazonaws.com"),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption[FRAME_OPTION], override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy[REFERRER_POLICY.upper().replace("-", "_")],
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_MAX_AGE_S),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            ),
        )

    def _api_behavior(
        self, http_api_endpoint: str, security_headers: cloudfront.IResponseHeadersPolicy
    ) -> cloudfront.BehaviorOptions:
        """`/api/*`: the HTTP API, uncached, every method."""
        return cloudfront.BehaviorOptions(
            origin=api_origin(http_api_endpoint),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Every viewer header but Host (API Gateway refuses a foreign Host; Authorization
            # cannot be allow-listed in a custom policy) and, by AWS's documentation of this
            # managed policy, the device type and viewer location CloudFront headers, among
            # them `CloudFront-Viewer-Address`: sign-on's join-flood limits key on it.
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=security_headers,
        )

    def _websocket_behavior(self, websocket_api_endpoint: str, websocket_stage_name: str) -> cloudfront.BehaviorOptions:
        """`/ws`: the WebSocket API, its handshake forwarded and its path rewritten to the stage."""
        request_policy = cloudfront.OriginRequestPolicy(
            self,
            names.WS_ORIGIN_REQUEST_POLICY,
            comment="WebSocket handshake: the token query string and the Sec-WebSocket-* headers",
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*WEBSOCKET_HEADERS),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        path_rewrite = cloudfront.Function(
            self,
            names.WS_PATH_REWRITE,
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Rewrite /ws to the WebSocket API stage path",
            code=cloudfront.FunctionCode.from_inline(websocket_rewrite_code(websocket_stage_name)),
        )
        return cloudfront.BehaviorOptions(
            origin=api_origin(websocket_api_endpoint),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=request_policy,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=path_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )

    def _distribution(
        self,
        *,
        security_headers: cloudfront.IResponseHeadersPolicy,
        images_behavior: cloudfront.BehaviorOptions,
        api_behavior: cloudfront.BehaviorOptions,
        websocket_behavior: cloudfront.BehaviorOptions,
        web_acl_arn: str,
    ) -> cloudfront.Distribution:
        """The site bucket by default, images and the two APIs on their paths, logged and behind the web ACL."""
        distribution = cloudfront.Distribution(
            self,
            names.DISTRIBUTION,
            comment="Speed-run web client, question images, HTTP API and WebSocket API",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=security_headers,
                compress=True,
            ),
            additional_behaviors={
                IMAGES_PATH_PATTERN: images_behavior,
                names.API_PATH_PATTERN: api_behavior,
                names.WS_PATH: websocket_behavior,
            },
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn,
        )
        acknowledge(
            distribution,
            {
                "AwsSolutions-CFR1": "A quiz open to anyone: no geographic restriction wanted.",
                "AwsSolutions-CFR4": "No custom domain yet: the default *.cloudfront.net certificate fixes the "
                "viewer policy; TLSv1.2_2021 is set and applies as soon as a domain certificate is attached.",
            },
        )
        return distribution

    @property
    def domain_name(self) -> str:
        return self.distribution.distribution_domain_name

    @property
    def site_url(self) -> str:
        return f"https://{self.domain_name}"

    @property
    def api_url(self) -> str:
        return f"https://{self.domain_name}/api"

    @property
    def ws_url(self) -> str:
        return f"wss://{self.domain_name}{names.WS_PATH}"

    def deploy_site(self, client_config: dict[str, str]) -> None:
        """Upload `web/` and the generated `/config.json`, then invalidate the cached copies."""
        sources = [s3deploy.Source.json_data(names.WEB_CONFIG_KEY, client_config)]
        if any(path.name != ".gitkeep" for path in Path(WEB_DIR).iterdir()):
            sources.insert(0, s3deploy.Source.asset(str(WEB_DIR), exclude=WEB_EXCLUDE))
        deployment = s3deploy.BucketDeployment(
            self,
            names.SITE_DEPLOYMENT,
            sources=sources,
            destination_bucket=self.site_bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        # The deployment's handler is a stack-wide singleton function built by CDK.
        handler = deployment.handler_role.node.scope
        assert handler is not None
        staging = "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*"
        copy_reason = "CDK's BucketDeployment copies its staged asset into the site bucket and prunes old objects."
        acknowledge(
            handler,
            {
                "AwsSolutions-L1": "Runtime chosen by CDK's BucketDeployment.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]": "CDK's BucketDeployment handler role (logs only).",
                **{
                    f"AwsSolutions-IAM5[Action::s3:{action}]": copy_reason
                    for action in ("GetBucket*", "GetObject*", "List*", "Abort*", "DeleteObject*")
                },
                f"AwsSolutions-IAM5[Resource::{staging}]": copy_reason,
                f"AwsSolutions-IAM5[Resource::<{logical_id(self.site_bucket)}.Arn>/*]": copy_reason,
                "AwsSolutions-IAM5[Resource::*]": "cloudfront:CreateInvalidation takes no distribution-level ARN "
                "in CDK's BucketDeployment policy.",
            },
        )
