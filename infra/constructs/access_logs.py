"""Access logs of an API Gateway stage (HTTP or WebSocket) to a CloudWatch log group, as JSON lines;
per-route throttling of a stage."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import CfnResource
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from constructs import Construct


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """`IAccessLogSettings` is a jsii interface, not a struct: Python must implement it as a class."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigateway.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format


def access_log_settings(scope: Construct, construct_id: str, fields: dict[str, str]) -> apigwv2.IAccessLogSettings:
    """A new log group (one month) and settings writing `fields` (`$context.*` variables) as JSON."""
    log_group = logs.LogGroup(scope, construct_id, retention=logs.RetentionDays.ONE_MONTH)
    return _AccessLogSettings(
        apigwv2.LogGroupLogDestination(log_group), apigateway.AccessLogFormat.custom(json.dumps(fields))
    )


def throttle_routes(
    stage: apigwv2.IStage, limits: Mapping[str, tuple[float, int]], routes: Mapping[str, Sequence[CfnResource]]
) -> None:
    """`RouteSettings` of the stage: `limits` maps a route key to (rate per second, burst); `routes`
    maps a route key to its route resources. API Gateway refuses settings for a route that does not
    exist yet, so the stage waits for those routes."""
    missing = sorted(set(limits) - set(routes))
    if missing:
        raise ValueError(f"throttled route keys without a route: {missing}")
    stage_resource = stage.node.default_child
    assert isinstance(stage_resource, CfnResource)
    stage_resource.add_property_override(
        "RouteSettings",
        {
            route_key: {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
            for route_key, (rate, burst) in limits.items()
        },
    )
    for route_key in limits:
        for route in routes[route_key]:
            stage_resource.add_resource_dependency(route)
