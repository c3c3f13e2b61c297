"""The HTTP API: every route of `manifest.http_routes()`, the Cognito JWT authorizer on `Auth.USER` routes.

`PUBLIC` routes take no credentials; `IN_FUNCTION` routes accept a Cognito token *or* a run-scoped
token, which API Gateway cannot verify, so the function does. Built in two steps like the WebSocket
API: the API and its stage first (CloudFront needs the endpoint), `add_routes` once functions exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnResource
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import names
from infra.constructs.access_logs import access_log_settings, throttle_routes
from infra.nag import acknowledge
from speedrun import manifest

DEFAULT_STAGE = "$default"
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "latencyMs": "$context.responseLatency",
    "requestTime": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
}


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            description="Speed-run HTTP API (http-api.md), served behind CloudFront at /api/*",
            create_default_stage=False,
        )
        self.stage = apigwv2.HttpStage(
            self,
            names.HTTP_API_STAGE,
            http_api=self.api,
            stage_name=DEFAULT_STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=names.HTTP_API_THROTTLE_RATE, burst_limit=names.HTTP_API_THROTTLE_BURST
            ),
            access_log_settings=access_log_settings(self, names.HTTP_API_ACCESS_LOGS, ACCESS_LOG_FIELDS),
        )
        self.user_authorizer = authorizers.HttpUserPoolAuthorizer(
            names.HTTP_AUTHORIZER, user_pool, user_pool_clients=[user_pool_client]
        )

    @property
    def endpoint(self) -> str:
        """https://<api>.execute-api.<region>.amazonaws.com (the `$default` stage has no path)."""
        return self.api.api_endpoint

    def add_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        integrations_by_function: dict[str, integrations.HttpLambdaIntegration] = {}
        route_resources: dict[str, list[CfnResource]] = {}
        for route, spec in manifest.http_routes():
            integration = integrations_by_function.get(spec.name)
            if integration is None:
                integration = integrations.HttpLambdaIntegration(
                    f"{names.pascal(spec.name)}Integration", functions[spec.name]
                )
                integrations_by_function[spec.name] = integration
            authorizer: apigwv2.IHttpRouteAuthorizer = (
                self.user_authorizer if route.auth is manifest.Auth.USER else apigwv2.HttpNoneAuthorizer()
            )
            for http_route in self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=integration,
                authorizer=authorizer,
            ):
                resource = http_route.node.default_child
                assert isinstance(resource, CfnResource)
                route_resources.setdefault(route.route_key, []).append(resource)
                if route.auth is not manifest.Auth.USER:
                    acknowledge(
                        http_route,
                        {
                            "AwsSolutions-APIG4": f"{route.route_key} is {route.auth.value}: public by contract "
                            "(join, OpenAPI) or verified in the function (run-scoped tokens)."
                        },
                    )
        throttle_routes(self.stage, names.HTTP_ROUTE_THROTTLES, route_resources)
