"""HTTP API, WebSocket API and Cognito: routes and authorization exactly as the manifest declares."""

from __future__ import annotations

import json
from typing import Any

from infra import names
from infra.constructs.websocket_api import ONE_WAY_ROUTES
from speedrun import manifest
from tests.infra.infra_template import Synth, referenced_ids


def routes_of(synth: Synth, api: Any) -> dict[str, dict[str, Any]]:
    api_id = synth.logical_id(api)
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in synth.of_type("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["ApiId"] == {"Ref": api_id}
    }


def integration_function(synth: Synth, route: dict[str, Any]) -> str:
    """Logical id of the Lambda function behind a route."""
    (integration_id,) = referenced_ids(route["Target"])
    uri = synth.resources[integration_id]["Properties"]["IntegrationUri"]
    (function_id,) = referenced_ids(uri)
    return function_id


def http_authorizer_id(synth: Synth) -> str:
    api = {"Ref": synth.logical_id(synth.stack.http_api.api)}
    (authorizer_id,) = [
        key
        for key, value in synth.of_type("AWS::ApiGatewayV2::Authorizer").items()
        if value["Properties"]["ApiId"] == api
    ]
    return authorizer_id


def test_http_routes_are_the_manifest_routes_with_their_authorization(synth: Synth) -> None:
    routes = routes_of(synth, synth.stack.http_api.api)
    expected = {route.route_key: (route, spec) for route, spec in manifest.http_routes()}
    assert set(routes) == set(expected)
    authorizer_id = http_authorizer_id(synth)
    for key, (route, spec) in expected.items():
        properties = routes[key]
        if route.auth is manifest.Auth.USER:
            assert properties["AuthorizationType"] == "JWT", key
            assert properties["AuthorizerId"] == {"Ref": authorizer_id}, key
        else:
            assert properties["AuthorizationType"] == "NONE", key
            assert "AuthorizerId" not in properties, key
        assert integration_function(synth, properties) == synth.function(spec.name)[0], key


def test_http_authorizer_verifies_cognito_id_tokens_of_the_web_client(synth: Synth) -> None:
    authorizer = synth.resources[http_authorizer_id(synth)]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    jwt = authorizer["JwtConfiguration"]
    assert jwt["Audience"] == [{"Ref": synth.logical_id(synth.stack.identity.client)}]
    assert referenced_ids(jwt["Issuer"]) == {synth.logical_id(synth.stack.identity.user_pool)}
    assert jwt["Issuer"]["Fn::Join"][1][0] == "https://cognito-idp."


def test_http_default_stage_is_throttled_and_access_logged(synth: Synth) -> None:
    stage = synth.resources[synth.logical_id(synth.stack.http_api.stage)]["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == names.HTTP_API_THROTTLE_RATE
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == names.HTTP_API_THROTTLE_BURST
    (log_group,) = referenced_ids(stage["AccessLogSettings"]["DestinationArn"])
    assert synth.resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.requestId" in json.loads(stage["AccessLogSettings"]["Format"]).values()


def test_websocket_routes_are_the_manifest_route_keys(synth: Synth) -> None:
    api = synth.resources[synth.logical_id(synth.stack.websocket_api.api)]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    routes = routes_of(synth, synth.stack.websocket_api.api)
    expected = dict(manifest.ws_routes())
    assert set(routes) == set(expected)
    for key, spec in expected.items():
        assert integration_function(synth, routes[key]) == synth.function(spec.name)[0], key


def test_connect_is_authorized_by_the_token_authorizer_and_nothing_else_is(synth: Synth) -> None:
    routes = routes_of(synth, synth.stack.websocket_api.api)
    connect = routes["$connect"]
    assert connect["AuthorizationType"] == "CUSTOM"
    (authorizer_id,) = referenced_ids(connect["AuthorizerId"])
    authorizer = synth.resources[authorizer_id]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]
    authorizer_function = synth.function(manifest.ws_authorizer().name)[0]
    assert authorizer_function in referenced_ids(authorizer["AuthorizerUri"])
    for key, route in routes.items():
        if key != "$connect":
            assert route["AuthorizationType"] == "NONE", key


def test_message_routes_reply_to_the_sender(synth: Synth) -> None:
    routes = routes_of(synth, synth.stack.websocket_api.api)
    route_ids = {
        key: logical_id
        for logical_id, route in synth.of_type("AWS::ApiGatewayV2::Route").items()
        for key in [route["Properties"]["RouteKey"]]
        if key in routes
    }
    responses = {
        response["Properties"]["RouteId"]["Ref"]
        for response in synth.of_type("AWS::ApiGatewayV2::RouteResponse").values()
        if response["Properties"]["RouteResponseKey"] == "$default"
    }
    for key, route in routes.items():
        two_way = key not in ONE_WAY_ROUTES
        assert (route.get("RouteResponseSelectionExpression") == "$default") is two_way, key
        assert (route_ids[key] in responses) is two_way, key


def test_websocket_stage_is_the_stage_name_auto_deployed_throttled_and_logged(synth: Synth) -> None:
    stage = synth.resources[synth.logical_id(synth.stack.websocket_api.stage)]["Properties"]
    assert stage["StageName"] == "dev"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == names.WS_THROTTLE_RATE
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == names.WS_THROTTLE_BURST
    (log_group,) = referenced_ids(stage["AccessLogSettings"]["DestinationArn"])
    assert synth.resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.connectionId" in json.loads(stage["AccessLogSettings"]["Format"]).values()


def test_every_api_function_may_be_invoked_by_api_gateway_only_from_its_api(synth: Synth) -> None:
    permissions = [p["Properties"] for p in synth.of_type("AWS::Lambda::Permission").values()]
    for route, spec in manifest.http_routes():
        function_id = synth.function(spec.name)[0]
        sources = [
            p["SourceArn"]
            for p in permissions
            if referenced_ids(p["FunctionName"]) == {function_id} and p["Principal"] == "apigateway.amazonaws.com"
        ]
        assert sources, route.route_key
        assert all(
            referenced_ids(source)
            <= {synth.logical_id(synth.stack.http_api.api), synth.logical_id(synth.stack.websocket_api.api)}
            for source in sources
        )


def test_user_pool_client_signs_in_with_password_or_srp_and_has_no_secret(synth: Synth) -> None:
    client = synth.resources[synth.logical_id(synth.stack.identity.client)]["Properties"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert "AllowedOAuthFlows" not in client
    pool = synth.resources[synth.logical_id(synth.stack.identity.user_pool)]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True, "self_sign_up=false in cdk.json"
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[flag] for flag in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert policy == manifest.PASSWORD_POLICY.as_cognito()
