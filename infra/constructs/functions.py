"""Every Lambda function of `manifest.FUNCTIONS`, built by one factory from its spec alone.

Environment, VPC placement, mounts, event sources and IAM grants are derived from `spec.needs`
(and `spec.queue_trigger`); nothing here names a particular function.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Tags
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import names
from infra.constructs.cache import Cache
from infra.constructs.network import Network
from infra.constructs.question_store import QuestionStore
from infra.constructs.queues import Queues
from infra.constructs.tables import Tables
from infra.constructs.websocket_api import WebSocketApi
from infra.function_code import code_dir
from infra.layers import ARCHITECTURE, ASSET_EXCLUDE, RUNTIME, Layers
from infra.nag import acknowledge, logical_id
from speedrun import manifest
from speedrun.adapters import image_store

LOG_LEVEL = "INFO"
VPC_ACCESS_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]
"""What Lambda needs to attach a function to the VPC (AWSLambdaVPCAccessExecutionRole, inlined)."""


@dataclass(frozen=True)
class Resources:
    """Everything a function's needs can refer to."""

    stage: str
    layers: Layers
    network: Network
    cache: Cache
    question_store: QuestionStore
    image_bucket: s3.IBucket
    tables: Tables
    queues: Queues
    token_secret: secretsmanager.ISecret
    websocket: WebSocketApi
    ws_url: str
    user_pool: cognito.UserPool
    user_pool_client: cognito.IUserPoolClient


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, resources: Resources) -> None:
        super().__init__(scope, construct_id)
        self._resources = resources
        self.functions: dict[str, lambda_.Function] = {}
        for spec in manifest.FUNCTIONS:
            self.functions[spec.name] = self._build(spec)

    def _environment(self, spec: manifest.FunctionSpec) -> dict[str, str]:
        res = self._resources
        needs = spec.needs
        env = {
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_LOG_LEVEL": LOG_LEVEL,
            "POWERTOOLS_METRICS_NAMESPACE": names.metrics_namespace(res.stage),
            "STAGE": res.stage,
            # The layer ships no pydantic plugin: without this, the first model pydantic builds reads
            # the metadata of every package in the layers looking for one, at every cold start.
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
        }
        if needs.redis:
            env[manifest.REDIS_URL_ENV] = res.cache.url
            env[manifest.REDIS_CLUSTER_ENV] = "1"
            env[manifest.REDIS_AUTH_SECRET_ENV] = res.cache.auth_secret.secret_arn
        if needs.question_store is not None:
            env[manifest.QUESTION_STORE_ENV] = manifest.QUESTION_STORE_MOUNT
        if needs.images is not None:
            env[manifest.IMAGE_STORE_ENV] = f"s3://{res.image_bucket.bucket_name}"
        for table in needs.tables:
            env[manifest.table_env(table)] = res.tables.tables[table].table_name
        for queue in needs.send_to_queues:
            env[manifest.queue_env(queue)] = res.queues.queues[queue].queue_url
        if needs.token_secret:
            env[manifest.TOKEN_SECRET_ENV] = res.token_secret.secret_arn
        if needs.push_to_connections:
            env[manifest.CONNECTIONS_URL_ENV] = res.websocket.callback_url
        if needs.ws_url:
            env[manifest.WS_URL_ENV] = res.ws_url
        if spec.needs.cognito_tokens:
            env[manifest.USER_POOL_CLIENT_ID_ENV] = res.user_pool_client.user_pool_client_id
            env[manifest.COGNITO_ISSUER_ENV] = res.user_pool.user_pool_provider_url
        return env

    def _build(self, spec: manifest.FunctionSpec) -> lambda_.Function:
        res = self._resources
        needs = spec.needs
        construct_id = names.function_id(spec.name)
        log_group = logs.LogGroup(self, f"{construct_id}Logs", retention=logs.RetentionDays.ONE_MONTH)
        # An own role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.name}: only what its manifest needs imply",
        )
        log_group.grant_write(role)
        if spec.in_vpc:
            role.add_to_policy(iam.PolicyStatement(actions=VPC_ACCESS_ACTIONS, resources=["*"]))
        function = lambda_.Function(
            self,
            construct_id,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(code_dir(spec)), exclude=ASSET_EXCLUDE),
            layers=res.layers.all,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            environment=self._environment(spec),
            tracing=lambda_.Tracing.ACTIVE,
            role=role,
            log_group=log_group,
            vpc=res.network.vpc if spec.in_vpc else None,
            vpc_subnets=res.network.private_subnets if spec.in_vpc else None,
            security_groups=[res.network.function_sg] if spec.in_vpc else None,
            filesystem=(
                res.question_store.mount(manifest.QUESTION_STORE_MOUNT, needs.question_store)
                if needs.question_store is not None
                else None
            ),
        )
        Tags.of(function).add(names.FUNCTION_TAG, spec.name)
        if needs.redis:
            res.cache.grant_auth(function)
        if needs.images is not None:
            role.add_to_policy(self._image_grant(needs.images))
        for table, access in needs.tables.items():
            res.tables.grant(function, table, access)
        for queue in needs.send_to_queues:
            res.queues.queues[queue].grant_send_messages(function)
        if needs.token_secret:
            res.token_secret.grant_read(function)
        if needs.push_to_connections:
            res.websocket.grant_manage_connections(function)
        self._acknowledge(spec, function, role)
        if spec.queue_trigger is not None:
            queue_spec = manifest.queue(spec.queue_trigger)
            function.add_event_source(
                event_sources.SqsEventSource(
                    res.queues.queues[spec.queue_trigger],
                    batch_size=queue_spec.batch_size,
                    max_batching_window=(
                        Duration.seconds(queue_spec.max_batching_window_s) if queue_spec.max_batching_window_s else None
                    ),
                    report_batch_item_failures=True,
                    max_concurrency=queue_spec.max_concurrency,
                )
            )
        return function

    def _image_grant(self, access: manifest.Access) -> iam.PolicyStatement:
        """GetObject (+PutObject for WRITE) on the image objects only: not the bucket (no listing, so a
        missing key reads as 403) and no other object action (ACLs, tags, deletes)."""
        actions = ["s3:GetObject"]
        if access is manifest.Access.WRITE:
            actions.append("s3:PutObject")
        return iam.PolicyStatement(
            actions=actions, resources=[self._resources.image_bucket.arn_for_objects(f"{image_store.OBJECT_PREFIX}*")]
        )

    def _acknowledge(self, spec: manifest.FunctionSpec, function: lambda_.Function, role: iam.Role) -> None:
        acknowledge(
            function,
            {
                "AwsSolutions-L1": "The dependencies layer holds CPython 3.12 wheels (pydantic-core, Pillow); "
                "runtime and layer move to a newer Python together."
            },
        )
        reasons = {
            "AwsSolutions-IAM5[Resource::*]": "X-Ray PutTraceSegments/PutTelemetryRecords"
            + (" and Lambda's VPC ENI actions" if spec.in_vpc else "")
            + " accept no resource ARN.",
        }
        for table in spec.needs.tables:
            pattern = self._resources.tables.index_arn_pattern(table)
            if pattern is not None:
                reasons[f"AwsSolutions-IAM5[Resource::{pattern}]"] = (
                    f"The {table} table's own secondary indexes (speedrun.adapters.tables), queried by index name."
                )
        if spec.needs.images is not None:
            bucket = logical_id(self._resources.image_bucket)
            reasons[f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{image_store.OBJECT_PREFIX}*]"] = (
                "Any image object: keys are content hashes that exist only at run time (the bucket itself is "
                "not granted)."
            )
        if spec.needs.push_to_connections:
            websocket = self._resources.websocket
            reasons[f"AwsSolutions-IAM5[Resource::{websocket.connections_arn_pattern}]"] = (
                "Any connection of this WebSocket stage: connection ids exist only at run time."
            )
        acknowledge(role, reasons)
