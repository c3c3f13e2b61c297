"""The VPC and the three security groups: Redis and EFS accept only the functions' group."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import names

REDIS_PORT = 6379
NFS_PORT = 2049


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, nat_gateways: int) -> None:
        super().__init__(scope, construct_id)
        flow_logs = logs.LogGroup(self, "FlowLogGroup", retention=logs.RetentionDays.ONE_MONTH)
        self.vpc = ec2.Vpc(
            self,
            names.VPC,
            max_azs=2,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ],
            flow_logs={
                names.VPC_FLOW_LOGS: ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        # The reporter's batch writes go to DynamoDB: a gateway endpoint keeps them off the (billed) NAT.
        self.vpc.add_gateway_endpoint(
            "DynamoDbEndpoint", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[self.private_subnets]
        )
        # The question-set function stores images in S3 (up to a few MB each): same reason.
        self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.private_subnets]
        )

        # Functions need egress (NAT) for @connections, SQS, Secrets Manager and DynamoDB.
        self.function_sg = ec2.SecurityGroup(
            self,
            names.FUNCTION_SG,
            vpc=self.vpc,
            description="Lambda functions that use Redis or the question store",
            allow_all_outbound=True,
        )
        self.redis_sg = ec2.SecurityGroup(
            self, names.REDIS_SG, vpc=self.vpc, description="Redis (ElastiCache)", allow_all_outbound=False
        )
        self.efs_sg = ec2.SecurityGroup(
            self, names.EFS_SG, vpc=self.vpc, description="Question store (EFS)", allow_all_outbound=False
        )
        self.redis_sg.add_ingress_rule(self.function_sg, ec2.Port.tcp(REDIS_PORT), "Redis from the functions")
        self.efs_sg.add_ingress_rule(self.function_sg, ec2.Port.tcp(NFS_PORT), "NFS from the functions")
