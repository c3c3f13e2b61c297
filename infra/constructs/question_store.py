"""The question-set store: an encrypted EFS file system behind one access point, mounted by functions."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import names
from speedrun.manifest import Access

POSIX_ID = "1000"
ROOT_PATH = "/question-sets"
ROOT_PERMISSIONS = "750"


class QuestionStore(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.file_system = efs.FileSystem(
            self,
            names.FILE_SYSTEM,
            vpc=vpc,
            vpc_subnets=subnets,
            security_group=security_group,
            encrypted=True,
            # Set files are written once and read when a run opens: cold ones move to Infrequent Access.
            lifecycle_policy=efs.LifecyclePolicy.AFTER_30_DAYS,
            out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            enable_automatic_backups=True,
            removal_policy=removal_policy,
        )
        self.access_point = self.file_system.add_access_point(
            names.ACCESS_POINT,
            path=ROOT_PATH,
            posix_user=efs.PosixUser(uid=POSIX_ID, gid=POSIX_ID),
            create_acl=efs.Acl(owner_uid=POSIX_ID, owner_gid=POSIX_ID, permissions=ROOT_PERMISSIONS),
        )

    def mount(self, mount_path: str, access: Access) -> lambda_.FileSystem:
        """A Lambda mount of the access point whose IAM grant matches `access`.

        `lambda_.FileSystem.from_efs_access_point` would always grant ClientWrite; a READ function
        gets ClientMount only, so EFS refuses its writes.
        """
        actions = ["elasticfilesystem:ClientMount"]
        if access is Access.WRITE:
            actions.append("elasticfilesystem:ClientWrite")
        return lambda_.FileSystem(
            arn=self.access_point.access_point_arn,
            local_mount_path=mount_path,
            dependency=[self.file_system.mount_targets_available],
            policies=[
                iam.PolicyStatement(
                    actions=actions,
                    resources=[self.file_system.file_system_arn],
                    conditions={
                        "StringEquals": {"elasticfilesystem:AccessPointArn": self.access_point.access_point_arn}
                    },
                )
            ],
        )
