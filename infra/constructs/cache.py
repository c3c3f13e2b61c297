"""The live-state cache: ElastiCache Serverless (Valkey) by default, or a node-based replication group.

Both are cluster-mode and TLS-only, so the functions always get `rediss://` and `REDIS_CLUSTER=1`
(the client is cluster-aware; every key of a run shares a `{run id}` hash tag).

Both accept only an RBAC user group: the `default` user is disabled and the one enabled user's
password is generated into a Secrets Manager secret (`{"username", "password"}`), which the
ElastiCache user reads through a dynamic reference: no password in the template or in any
environment variable. Functions get the secret's ARN and read it (speedrun.adapters.redis_client).
"""

from __future__ import annotations

import json

from aws_cdk import CfnResource, SecretValue
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import names
from infra.nag import acknowledge

ENGINE = "valkey"
SERVERLESS_MAJOR_VERSION = "8"
NODES_ENGINE_VERSION = "8.0"
NODE_TYPE = "cache.t4g.small"
SERVERLESS_MAX_DATA_GB = 10
SERVERLESS_MAX_ECPU_PER_SECOND = 20000
APP_USER_NAME = "speedrun-app"
APP_USER_ACCESS = "on ~* &* +@all"
"""Every key and command of the one application identity; ElastiCache itself blocks admin commands."""
DEFAULT_USER_ACCESS = "off ~* -@all"
"""A user group must contain a user named `default`: disabled, so a client without AUTH gets nothing."""
PASSWORD_LENGTH = 40
"""ElastiCache passwords: 16 to 128 printable characters; letters and digits avoid the forbidden ones."""
NO_ROTATION = (
    "Rotating the cache password means changing the ElastiCache user's passwords in step (two may be "
    "active at once); done by hand for now, see docs/security.md."
)


class Cache(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        mode: str,
        name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        subnet_ids = vpc.select_subnets(subnet_type=subnets.subnet_type).subnet_ids
        self.user_group = self._user_group(name)
        self.address: str
        self.port: str
        if mode == names.CACHE_MODE_SERVERLESS:
            serverless = elasticache.CfnServerlessCache(
                self,
                names.CACHE_SERVERLESS,
                engine=ENGINE,
                major_engine_version=SERVERLESS_MAJOR_VERSION,
                serverless_cache_name=name,
                description="Live state of speed-runs (TLS only, cluster mode)",
                security_group_ids=[security_group.security_group_id],
                subnet_ids=subnet_ids,
                user_group_id=self.user_group.ref,
                # Upper bounds keep a runaway client from running up the bill.
                cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                    data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                        unit="GB", maximum=SERVERLESS_MAX_DATA_GB
                    ),
                    ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(
                        maximum=SERVERLESS_MAX_ECPU_PER_SECOND
                    ),
                ),
            )
            self.resource: CfnResource = serverless
            self.address = serverless.attr_endpoint_address
            self.port = serverless.attr_endpoint_port
        else:
            subnet_group = elasticache.CfnSubnetGroup(
                self,
                names.CACHE_SUBNET_GROUP,
                description="Private subnets of the speed-run cache",
                subnet_ids=subnet_ids,
            )
            group = elasticache.CfnReplicationGroup(
                self,
                names.CACHE_REPLICATION_GROUP,
                replication_group_description="Live state of speed-runs (TLS only, cluster mode)",
                engine=ENGINE,
                engine_version=NODES_ENGINE_VERSION,
                cache_node_type=NODE_TYPE,
                cluster_mode="enabled",
                num_node_groups=1,
                # One replica in the other AZ: cluster mode requires automatic failover, which needs it.
                replicas_per_node_group=1,
                automatic_failover_enabled=True,
                multi_az_enabled=True,
                transit_encryption_enabled=True,
                transit_encryption_mode="required",
                at_rest_encryption_enabled=True,
                cache_subnet_group_name=subnet_group.ref,
                security_group_ids=[security_group.security_group_id],
                user_group_ids=[self.user_group.ref],
                snapshot_retention_limit=1,
            )
            self.resource = group
            self.address = group.attr_configuration_end_point_address
            self.port = group.attr_configuration_end_point_port
            acknowledge(
                group,
                {
                    "AwsSolutions-AEC5": "Default port 6379 is reachable only from the functions' security group.",
                    "AwsSolutions-AEC6": "RBAC instead of the single AUTH token this rule looks for (ElastiCache "
                    "accepts one or the other): a user group whose only enabled user's password is in Secrets "
                    "Manager; TLS is required.",
                },
            )
        self.mode = mode

    def _user_group(self, name: str) -> elasticache.CfnUserGroup:
        self.auth_secret = secretsmanager.Secret(
            self,
            names.CACHE_AUTH_SECRET,
            description=f"Password of the {name} cache user (read by the functions that use Redis)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": APP_USER_NAME}),
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=PASSWORD_LENGTH,
            ),
        )
        # Never used to sign in (the user is off); a password rather than nopass all the same.
        default_secret = secretsmanager.Secret(
            self,
            names.CACHE_DEFAULT_USER_SECRET,
            description=f"Password of the disabled default user of {name} (read by nobody)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=PASSWORD_LENGTH
            ),
        )
        for secret in (self.auth_secret, default_secret):
            acknowledge(secret, {"AwsSolutions-SMG4": NO_ROTATION})
        app_user = self._user(
            names.CACHE_APP_USER,
            f"{name}-app",
            APP_USER_NAME,
            APP_USER_ACCESS,
            self.auth_secret.secret_value_from_json("password"),
        )
        default_user = self._user(
            names.CACHE_DEFAULT_USER, f"{name}-default", "default", DEFAULT_USER_ACCESS, default_secret.secret_value
        )
        return elasticache.CfnUserGroup(
            self,
            names.CACHE_USER_GROUP,
            engine=ENGINE,
            user_group_id=f"{name}-users",
            user_ids=[default_user.ref, app_user.ref],
        )

    def _user(
        self, construct_id: str, user_id: str, user_name: str, access: str, password: SecretValue
    ) -> elasticache.CfnUser:
        return elasticache.CfnUser(
            self,
            construct_id,
            engine=ENGINE,
            user_id=user_id,
            user_name=user_name,
            access_string=access,
            # A {{resolve:secretsmanager:...}} dynamic reference: CloudFormation reads it at deploy time.
            authentication_mode={"Type": "password", "Passwords": [password.unsafe_unwrap()]},
        )

    def grant_auth(self, grantee: iam.IGrantable) -> None:
        """Read the cache user's secret (GetSecretValue/DescribeSecret on that secret only)."""
        self.auth_secret.grant_read(grantee)

    @property
    def url(self) -> str:
        """`rediss://<endpoint>:<port>` (a CloudFormation token until deploy)."""
        return f"rediss://{self.address}:{self.port}"
