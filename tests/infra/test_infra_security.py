"""Security controls of the synthesized stacks: WAF on CloudFront, stage and route throttling, Redis
AUTH (RBAC user from Secrets Manager), no secret in the template, TLS-only and encrypted-at-rest
resources, the web client's response headers and no inline script in web/."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from infra import names
from infra.constructs.edge import WEB_DIR
from infra.web_acl_stack import MANAGED_RULE_GROUPS, WEB_ACL_REGION, web_acl_parameter_name
from speedrun import manifest
from tests.infra.conftest import NODES_WAF_RATE_LIMIT
from tests.infra.infra_template import Synth, actions_of, referenced_ids

MODES = ["serverless", "nodes"]
SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


@pytest.fixture(params=MODES)
def any_synth(request: pytest.FixtureRequest) -> Synth:
    synth: Synth = request.getfixturevalue("synth" if request.param == "serverless" else "synth_nodes")
    return synth


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, list(resources)
    key, value = next(iter(resources.items()))
    return key, value["Properties"]


# --- WAF ---


def test_the_web_acl_stack_is_pinned_to_us_east_1_and_the_main_stack_waits_for_it(any_synth: Synth) -> None:
    web_acl_stack = any_synth.stack.web_acl_stack
    assert web_acl_stack.region == WEB_ACL_REGION == "us-east-1"
    assert web_acl_stack in any_synth.stack.dependencies
    assert any_synth.stack.web_acl_stack.stack_name == names.web_acl_stack_name(any_synth.stack.options.stage)


@pytest.mark.parametrize(("mode", "rate_limit"), [("serverless", 1000), ("nodes", NODES_WAF_RATE_LIMIT)])
def test_the_web_acl_has_the_managed_rule_groups_and_a_rate_rule_per_ip(
    request: pytest.FixtureRequest, mode: str, rate_limit: int
) -> None:
    synth: Synth = request.getfixturevalue("synth" if mode == "serverless" else "synth_nodes")
    _, acl = only(of_type(synth.web_acl, "AWS::WAFv2::WebACL"))
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    for group in MANAGED_RULE_GROUPS:
        statement = rules[group]["Statement"]["ManagedRuleGroupStatement"]
        assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
        assert rules[group]["OverrideAction"] == {"None": {}}  # the group's own block actions apply
    rate = rules[names.WAF_RATE_RULE]
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": rate_limit,
        "EvaluationWindowSec": 300,
    }
    assert rate["Action"] == {"Block": {}}
    assert set(rules) == {*MANAGED_RULE_GROUPS, names.WAF_RATE_RULE}
    assert len({rule["Priority"] for rule in acl["Rules"]}) == len(acl["Rules"])
    for visibility in [acl["VisibilityConfig"], *(rule["VisibilityConfig"] for rule in acl["Rules"])]:
        assert visibility["CloudWatchMetricsEnabled"] is True
        assert visibility["SampledRequestsEnabled"] is True


def test_only_the_body_size_rule_of_the_common_set_is_relaxed(synth: Synth) -> None:
    """Question-set uploads exceed the common rule set's 8 KB body limit; the function bounds them."""
    _, acl = only(of_type(synth.web_acl, "AWS::WAFv2::WebACL"))
    overrides = [
        override
        for rule in acl["Rules"]
        for override in rule["Statement"].get("ManagedRuleGroupStatement", {}).get("RuleActionOverrides", [])
    ]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]


def test_the_distribution_uses_the_web_acl_read_from_its_parameter_in_us_east_1(any_synth: Synth) -> None:
    stage = any_synth.stack.options.stage
    _, parameter = only(of_type(any_synth.web_acl, "AWS::SSM::Parameter"))
    acl_id, _ = only(of_type(any_synth.web_acl, "AWS::WAFv2::WebACL"))
    assert parameter["Name"] == web_acl_parameter_name(stage)
    assert parameter["Value"] == {"Fn::GetAtt": [acl_id, "Arn"]}

    _, distribution = only(any_synth.of_type("AWS::CloudFront::Distribution"))
    reader_id, attribute = distribution["DistributionConfig"]["WebACLId"]["Fn::GetAtt"]
    assert attribute == "Parameter.Value"
    reader = any_synth.resources[reader_id]
    assert reader["Type"] == "Custom::AWS"
    for call in ("Create", "Update"):
        sdk_call = json.loads(reader["Properties"][call])
        assert (sdk_call["service"], sdk_call["action"], sdk_call["region"]) == ("SSM", "getParameter", "us-east-1")
        assert sdk_call["parameters"] == {"Name": web_acl_parameter_name(stage)}
    # The reader may read that one parameter and nothing else.
    [policy] = [
        value["Properties"]["PolicyDocument"]
        for key, value in any_synth.of_type("AWS::IAM::Policy").items()
        if key in reader.get("DependsOn", [])
    ]
    [statement] = policy["Statement"]
    assert statement["Action"] == "ssm:GetParameter"
    resource = json.dumps(statement["Resource"])
    assert ":ssm:us-east-1:" in resource
    assert f"parameter{web_acl_parameter_name(stage)}" in resource


def test_waf_logging_is_off_by_default(synth: Synth) -> None:
    assert of_type(synth.web_acl, "AWS::WAFv2::LoggingConfiguration") == {}
    assert of_type(synth.web_acl, "AWS::Logs::LogGroup") == {}


def test_waf_logging_when_enabled_redacts_tokens(synth_nodes: Synth) -> None:
    _, log_group = only(of_type(synth_nodes.web_acl, "AWS::Logs::LogGroup"))
    assert log_group["LogGroupName"] == "aws-waf-logs-speedrun-qa"
    assert log_group["RetentionInDays"] == 30
    acl_id, _ = only(of_type(synth_nodes.web_acl, "AWS::WAFv2::WebACL"))
    _, logging = only(of_type(synth_nodes.web_acl, "AWS::WAFv2::LoggingConfiguration"))
    assert logging["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "log-group:aws-waf-logs-speedrun-qa" in json.dumps(logging["LogDestinationConfigs"])
    assert {"QueryString": {}} in logging["RedactedFields"]
    assert {"SingleHeader": {"Name": "authorization"}} in logging["RedactedFields"]


# --- throttling ---


def _stage(synth: Synth, api: Any) -> dict[str, Any]:
    return synth.resources[synth.logical_id(api.stage)]


def test_the_http_stage_throttles_the_abusable_routes_below_its_default(any_synth: Synth) -> None:
    stage = _stage(any_synth, any_synth.stack.http_api)
    default = stage["Properties"]["DefaultRouteSettings"]
    assert (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"]) == (
        names.HTTP_API_THROTTLE_RATE,
        names.HTTP_API_THROTTLE_BURST,
    )
    route_settings = stage["Properties"]["RouteSettings"]
    assert set(route_settings) == set(names.HTTP_ROUTE_THROTTLES)
    assert {"POST /api/signon/join", "POST /api/question-sets", "PUT /api/players/{handle}"} <= set(route_settings)
    for settings in route_settings.values():
        assert 0 < settings["ThrottlingRateLimit"] < names.HTTP_API_THROTTLE_RATE
        assert 0 < settings["ThrottlingBurstLimit"] < names.HTTP_API_THROTTLE_BURST
    # API Gateway refuses settings for a route that does not exist yet: the stage waits for them.
    routes = {
        value["Properties"]["RouteKey"]: key
        for key, value in any_synth.of_type("AWS::ApiGatewayV2::Route").items()
        if value["Properties"]["ApiId"] == {"Ref": any_synth.logical_id(any_synth.stack.http_api.api)}
    }
    assert {routes[route_key] for route_key in route_settings} <= set(stage["DependsOn"])


def test_every_throttled_route_is_a_manifest_route() -> None:
    http_keys = {route.route_key for route, _ in manifest.http_routes()}
    assert set(names.HTTP_ROUTE_THROTTLES) <= http_keys
    assert set(names.WS_ROUTE_THROTTLES) <= {key for key, _ in manifest.ws_routes()}


def test_the_websocket_stage_throttles_connects_below_messages(any_synth: Synth) -> None:
    stage = _stage(any_synth, any_synth.stack.websocket_api)
    default = stage["Properties"]["DefaultRouteSettings"]
    assert (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"]) == (
        names.WS_THROTTLE_RATE,
        names.WS_THROTTLE_BURST,
    )
    connect = stage["Properties"]["RouteSettings"]["$connect"]
    assert connect["ThrottlingRateLimit"] < names.WS_THROTTLE_RATE
    assert connect["ThrottlingBurstLimit"] < names.WS_THROTTLE_BURST


# --- Redis AUTH ---


def test_the_cache_accepts_only_its_user_group(any_synth: Synth) -> None:
    group_id, group = only(any_synth.of_type("AWS::ElastiCache::UserGroup"))
    users = any_synth.of_type("AWS::ElastiCache::User")
    assert {user_ref["Ref"] for user_ref in group["UserIds"]} == set(users)
    by_name = {user["Properties"]["UserName"]: user["Properties"] for user in users.values()}
    assert set(by_name) == {"default", "speedrun-app"}
    assert by_name["default"]["AccessString"].startswith("off ")
    assert by_name["speedrun-app"]["AccessString"].startswith("on ")
    for user in by_name.values():
        assert "NoPasswordRequired" not in user
        assert user["AuthenticationMode"]["Type"] == "password"
    if any_synth.stack.cache.mode == names.CACHE_MODE_SERVERLESS:
        _, cache = only(any_synth.of_type("AWS::ElastiCache::ServerlessCache"))
        assert cache["UserGroupId"] == {"Ref": group_id}
    else:
        _, cache = only(any_synth.of_type("AWS::ElastiCache::ReplicationGroup"))
        assert cache["UserGroupIds"] == [{"Ref": group_id}]
        assert cache["TransitEncryptionEnabled"] is True
        assert cache["TransitEncryptionMode"] == "required"
        assert cache["AtRestEncryptionEnabled"] is True
        assert "AuthToken" not in cache


def test_cache_passwords_are_generated_secrets_read_by_dynamic_reference(any_synth: Synth) -> None:
    app_secret_id = any_synth.logical_id(any_synth.stack.cache.auth_secret)
    app_secret = any_synth.resources[app_secret_id]["Properties"]
    generator = app_secret["GenerateSecretString"]
    assert json.loads(generator["SecretStringTemplate"]) == {"username": "speedrun-app"}
    assert generator["GenerateStringKey"] == "password"
    assert generator["PasswordLength"] >= 32
    assert "SecretString" not in app_secret
    for user in any_synth.of_type("AWS::ElastiCache::User").values():
        [password] = user["Properties"]["AuthenticationMode"]["Passwords"]
        parts = password["Fn::Join"][1]
        assert parts[0] == "{{resolve:secretsmanager:"
        secret_id = parts[1]["Ref"]
        assert any_synth.resources[secret_id]["Type"] == "AWS::SecretsManager::Secret"
        assert "GenerateSecretString" in any_synth.resources[secret_id]["Properties"]
        if user["Properties"]["UserName"] == "speedrun-app":
            assert secret_id == app_secret_id
            assert parts[2] == ":SecretString:password::}}"


@pytest.mark.parametrize("name", [spec.name for spec in manifest.FUNCTIONS])
def test_redis_users_get_the_secret_id_and_may_read_only_that_secret(synth: Synth, name: str) -> None:
    spec = manifest.function(name)
    _, function = synth.function(name)
    env = function["Environment"]["Variables"]
    secret_id = synth.logical_id(synth.stack.cache.auth_secret)
    reads = [statement for statement in synth.role_statements(name) if secret_id in referenced_ids(statement)]
    if spec.needs.redis:
        assert env[manifest.REDIS_AUTH_SECRET_ENV] == {"Ref": secret_id}
        assert actions_of(reads) == SECRET_READ
    else:
        assert manifest.REDIS_AUTH_SECRET_ENV not in env
        assert reads == []
    default_secret_id = next(
        key for key, value in synth.of_type("AWS::SecretsManager::Secret").items() if key.startswith("CacheDefault")
    )
    assert default_secret_id not in referenced_ids(synth.role_statements(name))


# --- no secret values in templates or environments ---


def test_no_environment_variable_holds_a_secret_value(any_synth: Synth) -> None:
    secret_ids = set(any_synth.of_type("AWS::SecretsManager::Secret"))
    for key, function in any_synth.of_type("AWS::Lambda::Function").items():
        for variable, value in function["Properties"].get("Environment", {}).get("Variables", {}).items():
            assert not re.search(r"PASSWORD|TOKEN(?!_SECRET_ID)|KEY$", variable), (key, variable)
            if variable.endswith("_SECRET_ID"):
                assert value == {"Ref": next(iter(referenced_ids(value)))}
                assert referenced_ids(value) <= secret_ids
            assert "{{resolve:" not in json.dumps(value), (key, variable)


def test_every_secret_value_is_generated_or_a_dynamic_reference(any_synth: Synth) -> None:
    for key, secret in any_synth.of_type("AWS::SecretsManager::Secret").items():
        properties = secret["Properties"]
        if "GenerateSecretString" in properties:
            assert "SecretString" not in properties, key
            continue
        # The token keyring: a JSON shell around the generated first key (a dynamic reference).
        text = json.dumps(properties["SecretString"])
        assert "{{resolve:secretsmanager:" in text, key
        assert not re.search(r"[A-Za-z0-9+/]{32,}", text.replace("resolve:secretsmanager", "")), key


# --- transport and encryption at rest ---


def _deny_insecure_transport(document: dict[str, Any]) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for statement in document["Statement"]
    )


def test_every_bucket_is_tls_only_private_and_encrypted(any_synth: Synth) -> None:
    buckets = any_synth.of_type("AWS::S3::Bucket")
    policies = {
        value["Properties"]["Bucket"]["Ref"]: value["Properties"]["PolicyDocument"]
        for value in any_synth.of_type("AWS::S3::BucketPolicy").values()
    }
    assert len(buckets) == 3  # access logs, the site, question images
    for key, bucket in buckets.items():
        assert _deny_insecure_transport(policies[key]), key
        encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}


def test_every_queue_is_tls_only_and_encrypted(any_synth: Synth) -> None:
    queues = any_synth.of_type("AWS::SQS::Queue")
    assert len(queues) == 2 * len(manifest.QUEUES)
    protected: set[str] = set()
    for policy in any_synth.of_type("AWS::SQS::QueuePolicy").values():
        if _deny_insecure_transport(policy["Properties"]["PolicyDocument"]):
            protected |= referenced_ids(policy["Properties"]["Queues"])
    assert protected == set(queues)
    for key, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue["Properties"], key


def test_the_alarm_topic_is_tls_only_and_encrypted_with_a_rotating_key(any_synth: Synth) -> None:
    topic_id, topic = only(any_synth.of_type("AWS::SNS::Topic"))
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert any_synth.resources[key_id]["Properties"]["EnableKeyRotation"] is True
    [policy] = [
        value["Properties"]["PolicyDocument"]
        for value in any_synth.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in value["Properties"]["Topics"]
    ]
    assert _deny_insecure_transport(policy)


def test_tables_and_the_question_store_are_encrypted_at_rest(any_synth: Synth) -> None:
    tables = any_synth.of_type("AWS::DynamoDB::GlobalTable")
    assert tables
    for key, table in tables.items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, key
    _, file_system = only(any_synth.of_type("AWS::EFS::FileSystem"))
    assert file_system["Encrypted"] is True


def test_the_cloudfront_origins_are_reached_over_tls_only(any_synth: Synth) -> None:
    _, distribution = only(any_synth.of_type("AWS::CloudFront::Distribution"))
    config = distribution["DistributionConfig"]
    for origin in config["Origins"]:
        if "CustomOriginConfig" in origin:
            assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
            assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} <= {"https-only", "redirect-to-https"}


# --- response headers of the web client ---


def test_the_site_and_api_send_a_strict_csp_hsts_preload_and_frame_denial(synth: Synth) -> None:
    policy_id, policy = only(synth.of_type("AWS::CloudFront::ResponseHeadersPolicy"))
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    # The policy is joined with the deploy region: read its literal parts with the region as <region>.
    parts = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Join"][1]
    csp_text = "".join("<region>" if part == {"Ref": "AWS::Region"} else part for part in parts)
    directives = dict(directive.strip().split(" ", 1) for directive in csp_text.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    connect = directives["connect-src"]
    assert connect == "'self' wss: https://cognito-idp.<region>.amazonaws.com"
    assert "unsafe" not in csp_text
    assert headers["ContentSecurityPolicy"]["Override"] is True
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert (hsts["IncludeSubdomains"], hsts["Preload"], hsts["Override"]) == (True, True, True)
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    _, distribution = only(synth.of_type("AWS::CloudFront::Distribution"))
    config = distribution["DistributionConfig"]
    site_and_api = [config["DefaultCacheBehavior"]] + [
        b for b in config["CacheBehaviors"] if b["PathPattern"] == names.API_PATH_PATTERN
    ]
    assert [b["ResponseHeadersPolicyId"] for b in site_and_api] == [{"Ref": policy_id}] * 2


class _InlineScriptFinder(HTMLParser):
    """Inline `<script>` bodies, `javascript:` URLs and `on*=` handler attributes: what the CSP blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not attributes.get("src"):
                self.found.append("<script> without src")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script text")


def test_the_web_client_has_no_inline_script() -> None:
    pages = sorted(WEB_DIR.rglob("*.html"))
    assert pages
    for page in pages:
        finder = _InlineScriptFinder()
        finder.feed(page.read_text())
        assert finder.found == [], page.name
