"""Every DynamoDB table, built from its pynamodb model (`speedrun.tables.MODELS`): one declaration."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct
from pynamodb.models import Model

from infra import names
from speedrun import tables as models
from speedrun.manifest import Access

ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


@dataclass(frozen=True)
class KeySchema:
    hash_key: str
    hash_type: str
    range_key: str | None
    range_type: str | None
    ttl_attribute: str | None


def key_schema(model: type[Model]) -> KeySchema:
    """The table's keys (DynamoDB names and S/N/B types) and TTL attribute, read from the model."""
    if model._indexes:
        # Nothing reads indexes yet; fail loudly rather than deploy a table the model disagrees with.
        raise NotImplementedError(f"{model.__name__} declares secondary indexes: teach infra/constructs/tables.py")
    types = {attribute.attr_name: attribute.attr_type for attribute in model.get_attributes().values()}
    hash_key = model._hash_keyname
    range_key = model._range_keyname
    if hash_key is None:
        raise ValueError(f"{model.__name__} has no hash key")
    return KeySchema(
        hash_key=hash_key,
        hash_type=types[hash_key],
        range_key=range_key,
        range_type=types[range_key] if range_key else None,
        ttl_attribute=models.ttl_attribute(model),
    )


class Tables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.TableV2] = {}
        for logical_name, model in models.MODELS.items():
            schema = key_schema(model)
            self.tables[logical_name] = dynamodb.TableV2(
                self,
                names.table_id(logical_name),
                partition_key=dynamodb.Attribute(name=schema.hash_key, type=ATTRIBUTE_TYPES[schema.hash_type]),
                sort_key=(
                    dynamodb.Attribute(name=schema.range_key, type=ATTRIBUTE_TYPES[schema.range_type])
                    if schema.range_key and schema.range_type
                    else None
                ),
                time_to_live_attribute=schema.ttl_attribute,
                billing=dynamodb.Billing.on_demand(),
                encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=removal_policy == RemovalPolicy.RETAIN,
                removal_policy=removal_policy,
            )

    def grant(self, grantee: iam.IGrantable, logical_name: str, access: Access) -> None:
        table = self.tables[logical_name]
        if access is Access.WRITE:
            table.grant_read_write_data(grantee)
        else:
            table.grant_read_data(grantee)
