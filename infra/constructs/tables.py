"""Every DynamoDB table, built from its pynamodb model (`speedrun.adapters.tables.MODELS`): one declaration."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct
from pynamodb.models import Model

from infra import names
from infra.nag import logical_id
from speedrun.adapters import tables as models
from speedrun.manifest import Access

ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


PROJECTION_TYPES = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclass(frozen=True)
class IndexSchema:
    """A global secondary index of the model: name, keys (names and S/N/B types), projection."""

    name: str
    hash_key: str
    hash_type: str
    range_key: str | None
    range_type: str | None
    projection: str
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeySchema:
    hash_key: str
    hash_type: str
    range_key: str | None
    range_type: str | None
    ttl_attribute: str | None
    indexes: tuple[IndexSchema, ...] = ()


def _index_schemas(model: type[Model]) -> tuple[IndexSchema, ...]:
    """The model's global secondary indexes as pynamodb itself would create them (its table schema)."""
    schema = model._get_schema()
    if schema["local_secondary_indexes"]:
        # Nothing uses local indexes; fail loudly rather than deploy a table the model disagrees with.
        raise NotImplementedError(
            f"{model.__name__} declares local secondary indexes: teach infra/constructs/tables.py"
        )
    types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    indexes = []
    for index in schema["global_secondary_indexes"]:
        keys = {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]}
        range_key = keys.get("RANGE")
        indexes.append(
            IndexSchema(
                name=index["index_name"],
                hash_key=keys["HASH"],
                hash_type=types[keys["HASH"]],
                range_key=range_key,
                range_type=types[range_key] if range_key else None,
                projection=index["projection"]["ProjectionType"],
                non_key_attributes=tuple(index["projection"].get("NonKeyAttributes", ())),
            )
        )
    return tuple(sorted(indexes, key=lambda index: index.name))


def key_schema(model: type[Model]) -> KeySchema:
    """The table's keys (DynamoDB names and S/N/B types), global secondary indexes and TTL attribute,
    read from the model."""
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
        indexes=_index_schemas(model),
    )


def _attribute(name: str, attribute_type: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=ATTRIBUTE_TYPES[attribute_type])


def _index_props(index: IndexSchema) -> dynamodb.GlobalSecondaryIndexPropsV2:
    return dynamodb.GlobalSecondaryIndexPropsV2(
        index_name=index.name,
        partition_key=_attribute(index.hash_key, index.hash_type),
        sort_key=_attribute(index.range_key, index.range_type) if index.range_key and index.range_type else None,
        projection_type=PROJECTION_TYPES[index.projection],
        non_key_attributes=list(index.non_key_attributes) or None,
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
                global_secondary_indexes=[_index_props(index) for index in schema.indexes] or None,
                time_to_live_attribute=schema.ttl_attribute,
                billing=dynamodb.Billing.on_demand(),
                encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=removal_policy == RemovalPolicy.RETAIN,
                removal_policy=removal_policy,
            )

    def index_arn_pattern(self, logical_name: str) -> str | None:
        """The `<table>/index/*` ARN a grant on a table with secondary indexes also covers, as cdk-nag
        spells it in its wildcard finding; None for a table without indexes."""
        if not key_schema(models.MODELS[logical_name]).indexes:
            return None
        return f"<{logical_id(self.tables[logical_name])}.Arn>/index/*"

    def grant(self, grantee: iam.IGrantable, logical_name: str, access: Access) -> None:
        table = self.tables[logical_name]
        if access is Access.WRITE:
            table.grant_read_write_data(grantee)
        else:
            table.grant_read_data(grantee)
