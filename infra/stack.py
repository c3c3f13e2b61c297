"""The whole platform in one stack, assembled from one construct per concern (see docs/infrastructure.md)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from infra import names
from infra.constructs.cache import Cache
from infra.constructs.edge import Edge
from infra.constructs.functions import Functions, Resources
from infra.constructs.http_api import HttpApi
from infra.constructs.identity import Identity
from infra.constructs.monitoring import Monitoring
from infra.constructs.network import Network
from infra.constructs.question_store import QuestionStore
from infra.constructs.queues import Queues
from infra.constructs.tables import Tables
from infra.constructs.token_secret import TokenSecret
from infra.constructs.websocket_api import WebSocketApi
from infra.context import StackOptions
from infra.layers import Layers
from infra.web_acl_stack import WebAclReference, WebAclStack


class SpeedRunStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        options: StackOptions,
        web_acl_stack: WebAclStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.options = options
        # The web ACL (us-east-1) must exist before the distribution reads its ARN.
        self.web_acl_stack = web_acl_stack
        self.add_stack_dependency(web_acl_stack, "the distribution reads the web ACL ARN it publishes")
        data_removal = RemovalPolicy.RETAIN if options.retain_data else RemovalPolicy.DESTROY

        self.network = Network(self, names.NETWORK, nat_gateways=options.nat_gateways)
        self.cache = Cache(
            self,
            names.CACHE,
            vpc=self.network.vpc,
            subnets=self.network.private_subnets,
            security_group=self.network.redis_sg,
            mode=options.cache_mode,
            name=f"{names.APP_NAME}-{options.stage}".lower(),
        )
        self.question_store = QuestionStore(
            self,
            names.QUESTION_STORE,
            vpc=self.network.vpc,
            subnets=self.network.private_subnets,
            security_group=self.network.efs_sg,
            removal_policy=data_removal,
        )
        self.tables = Tables(self, names.TABLES, removal_policy=data_removal)
        self.queues = Queues(self, names.QUEUES)
        self.layers = Layers(self, names.LAYERS)
        self.token_secret = TokenSecret(self, names.TOKEN_SECRET)
        self.identity = Identity(self, names.IDENTITY, self_sign_up=options.self_sign_up, removal_policy=data_removal)

        # APIs before functions (the functions need the @connections URL and the public URLs),
        # routes after them.
        self.http_api = HttpApi(
            self, names.HTTP_API, user_pool=self.identity.user_pool, user_pool_client=self.identity.client
        )
        self.websocket_api = WebSocketApi(self, names.WEBSOCKET_API, stage_name=options.stage)
        self.edge = Edge(
            self,
            names.EDGE,
            http_api_endpoint=self.http_api.endpoint,
            websocket_api_endpoint=self.websocket_api.api.api_endpoint,
            websocket_stage_name=options.stage,
            web_acl_arn=WebAclReference(self, names.WEB_ACL_REFERENCE, stage=options.stage).arn,
            removal_policy=data_removal,
        )
        self.functions = Functions(
            self,
            names.FUNCTIONS,
            resources=Resources(
                stage=options.stage,
                layers=self.layers,
                network=self.network,
                cache=self.cache,
                question_store=self.question_store,
                image_bucket=self.edge.image_bucket,
                tables=self.tables,
                queues=self.queues,
                token_secret=self.token_secret.secret,
                websocket=self.websocket_api,
                ws_url=self.edge.ws_url,
                user_pool=self.identity.user_pool,
                user_pool_client=self.identity.client,
            ),
        )
        self.http_api.add_routes(self.functions.functions)
        self.websocket_api.add_routes(self.functions.functions)
        self.edge.deploy_site(
            {
                "api_url": self.edge.api_url,
                "ws_url": self.edge.ws_url,
                "region": Aws.REGION,
                "user_pool_id": self.identity.user_pool.user_pool_id,
                "user_pool_client_id": self.identity.client.user_pool_client_id,
            }
        )
        self.monitoring = Monitoring(
            self,
            names.MONITORING,
            functions=self.functions.functions,
            dead_letter_queues=self.queues.dead_letter_queues,
        )

        CfnOutput(self, names.OUTPUT_SITE_URL, value=self.edge.site_url, description="The web client")
        CfnOutput(self, names.OUTPUT_API_URL, value=self.edge.api_url, description="HTTP API (via CloudFront)")
        CfnOutput(self, names.OUTPUT_WS_URL, value=self.edge.ws_url, description="WebSocket API (via CloudFront)")
        CfnOutput(self, names.OUTPUT_USER_POOL_ID, value=self.identity.user_pool.user_pool_id)
        CfnOutput(self, names.OUTPUT_USER_POOL_CLIENT_ID, value=self.identity.client.user_pool_client_id)
