"""The WebSocket API: route key `$request.body.action`, a REQUEST authorizer on `$connect`.

Built in two steps because the functions need the stage's @connections URL (and a grant on it)
while the routes need the functions: the API and stage first, `add_routes` once functions exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnResource
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import names
from infra.constructs.access_logs import access_log_settings, throttle_routes
from infra.nag import acknowledge, logical_id
from speedrun import manifest

ROUTE_SELECTION = "$request.body.action"
TOKEN_IDENTITY_SOURCE = "route.request.querystring.token"  # noqa: S105 - a request path, not a secret
CONNECT = "$connect"
DISCONNECT = "$disconnect"
ONE_WAY_ROUTES = frozenset({CONNECT, DISCONNECT})
"""API Gateway sends no reply on these; every other route answers the sender with the function's return."""

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "authorizerError": "$context.authorizer.error",
    "error": "$context.error.message",
    "requestTime": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
}


class WebSocketApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage_name: str) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            description="Speed-run live protocol (protocol.md)",
            route_selection_expression=ROUTE_SELECTION,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            names.WS_STAGE,
            web_socket_api=self.api,
            stage_name=stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=names.WS_THROTTLE_RATE, burst_limit=names.WS_THROTTLE_BURST),
            access_log_settings=access_log_settings(self, names.WS_ACCESS_LOGS, ACCESS_LOG_FIELDS),
        )

    @property
    def callback_url(self) -> str:
        """https://<api>.execute-api.<region>.amazonaws.com/<stage>: where functions POST to connections."""
        return self.stage.callback_url

    @property
    def connections_arn_pattern(self) -> str:
        """The granted `@connections/*` ARN as cdk-nag spells it in its wildcard finding."""
        return (
            "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
            f"<{logical_id(self.api)}>/{self.stage.stage_name}/*/@connections/*"
        )

    def grant_manage_connections(self, grantee: iam.IGrantable) -> None:
        """`execute-api:ManageConnections` on this stage's `@connections/*` only."""
        self.stage.grant_management_api_access(grantee)

    def add_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """Every route key of the manifest to its function; the authorizer on `$connect`."""
        authorizer_spec = manifest.ws_authorizer()
        authorizer = authorizers.WebSocketLambdaAuthorizer(
            names.WS_AUTHORIZER,
            functions[authorizer_spec.name],
            identity_source=[TOKEN_IDENTITY_SOURCE],
        )
        route_resources: dict[str, list[CfnResource]] = {}
        for route_key, spec in manifest.ws_routes():
            integration = integrations.WebSocketLambdaIntegration(
                f"{names.pascal(route_key)}Integration", functions[spec.name]
            )
            route = self.api.add_route(
                route_key,
                integration=integration,
                authorizer=authorizer if route_key == CONNECT else None,
                return_response=route_key not in ONE_WAY_ROUTES,
            )
            resource = route.node.default_child
            assert isinstance(resource, CfnResource)
            route_resources[route_key] = [resource]
            if route_key != CONNECT:
                acknowledge(
                    route,
                    {
                        "AwsSolutions-APIG4": "WebSocket authorization happens once, on $connect (token "
                        "authorizer); later routes run on the authorized connection."
                    },
                )
        throttle_routes(self.stage, names.WS_ROUTE_THROTTLES, route_resources)
