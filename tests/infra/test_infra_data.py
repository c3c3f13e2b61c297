"""Network, cache, question store, tables and queues: built from the manifest and the models, locked down."""

from __future__ import annotations

from typing import Any

import pytest

from infra.constructs.tables import key_schema
from speedrun import manifest
from speedrun.adapters import tables as models
from tests.infra.infra_template import Synth, referenced_ids


def test_vpc_spans_two_azs_with_public_and_private_subnets_and_flow_logs(synth: Synth) -> None:
    vpc = synth.stack.network.vpc
    assert len(vpc.availability_zones) == 2
    vpc_id = synth.logical_id(vpc)
    private = {synth.logical_id(s) for s in vpc.private_subnets}
    public = {synth.logical_id(s) for s in vpc.public_subnets}
    assert len(private) == 2 and len(public) == 2
    for subnet_id in private:
        assert synth.resources[subnet_id]["Properties"]["MapPublicIpOnLaunch"] is False
    for subnet_id in public:
        assert synth.resources[subnet_id]["Properties"]["MapPublicIpOnLaunch"] is True
    flow_logs = [f["Properties"] for f in synth.of_type("AWS::EC2::FlowLog").values()]
    assert any(f["ResourceId"] == {"Ref": vpc_id} and f["TrafficType"] == "ALL" for f in flow_logs)


def test_nat_gateways_follow_the_context(synth: Synth, synth_nodes: Synth) -> None:
    assert len(synth.of_type("AWS::EC2::NatGateway")) == 1  # cdk.json: nat_gateways=1
    assert len(synth_nodes.of_type("AWS::EC2::NatGateway")) == 2  # -c nat_gateways=2


@pytest.mark.parametrize(("group", "port"), [("redis_sg", 6379), ("efs_sg", 2049)])
def test_redis_and_efs_accept_only_the_function_security_group(synth: Synth, group: str, port: int) -> None:
    network = synth.stack.network
    group_id = synth.logical_id(getattr(network, group))
    function_sg = {"Fn::GetAtt": [synth.logical_id(network.function_sg), "GroupId"]}
    ingress = [
        rule["Properties"]
        for rule in synth.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    assert ingress == [
        {
            "Description": ingress[0]["Description"],
            "FromPort": port,
            "ToPort": port,
            "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": [group_id, "GroupId"]},
            "SourceSecurityGroupId": function_sg,
        }
    ]
    assert "SecurityGroupIngress" not in synth.resources[group_id]["Properties"]


def test_serverless_cache_is_valkey_in_the_private_subnets_behind_its_group(synth: Synth) -> None:
    cache = synth.resources[synth.logical_id(synth.stack.cache.resource)]
    assert cache["Type"] == "AWS::ElastiCache::ServerlessCache"
    properties = cache["Properties"]
    assert properties["Engine"] == "valkey"
    assert properties["ServerlessCacheName"] == "speedrun-dev"
    assert properties["SecurityGroupIds"] == [
        {"Fn::GetAtt": [synth.logical_id(synth.stack.network.redis_sg), "GroupId"]}
    ]
    assert referenced_ids(properties["SubnetIds"]) == {
        synth.logical_id(s) for s in synth.stack.network.vpc.private_subnets
    }


def test_node_cache_mode_builds_an_encrypted_cluster_mode_replication_group(synth_nodes: Synth) -> None:
    assert not synth_nodes.of_type("AWS::ElastiCache::ServerlessCache")
    (group,) = synth_nodes.of_type("AWS::ElastiCache::ReplicationGroup").values()
    properties = group["Properties"]
    assert properties["TransitEncryptionEnabled"] is True
    assert properties["TransitEncryptionMode"] == "required"
    assert properties["AtRestEncryptionEnabled"] is True
    assert properties["ClusterMode"] == "enabled"
    assert properties["Engine"] == "valkey"
    group_id = synth_nodes.logical_id(synth_nodes.stack.cache.resource)
    _, signon = synth_nodes.function("signon")
    url = signon["Environment"]["Variables"][manifest.REDIS_URL_ENV]["Fn::Join"][1]
    assert url[0] == "rediss://"
    assert url[1] == {"Fn::GetAtt": [group_id, "ConfigurationEndPoint.Address"]}
    assert signon["Environment"]["Variables"][manifest.REDIS_CLUSTER_ENV] == "1"


def test_question_store_is_encrypted_tiered_backed_up_behind_one_access_point(synth: Synth) -> None:
    store = synth.stack.question_store
    file_system = synth.resources[synth.logical_id(store.file_system)]["Properties"]
    assert file_system["Encrypted"] is True
    assert {"TransitionToIA": "AFTER_30_DAYS"} in file_system["LifecyclePolicies"]
    assert file_system["BackupPolicy"] == {"Status": "ENABLED"}
    access_point = synth.resources[synth.logical_id(store.access_point)]["Properties"]
    assert access_point["PosixUser"] == {"Uid": "1000", "Gid": "1000"}
    assert access_point["RootDirectory"]["Path"] == "/question-sets"
    assert access_point["RootDirectory"]["CreationInfo"]["OwnerUid"] == "1000"
    assert access_point["RootDirectory"]["CreationInfo"]["OwnerGid"] == "1000"
    mount_targets = [m["Properties"] for m in synth.of_type("AWS::EFS::MountTarget").values()]
    assert {synth.logical_id(s) for s in synth.stack.network.vpc.private_subnets} == {
        m["SubnetId"]["Ref"] for m in mount_targets
    }
    efs_sg = {"Fn::GetAtt": [synth.logical_id(synth.stack.network.efs_sg), "GroupId"]}
    assert all(m["SecurityGroups"] == [efs_sg] for m in mount_targets)


@pytest.mark.parametrize("logical_name", list(models.MODELS))
def test_table_matches_its_pynamodb_model(synth: Synth, logical_name: str) -> None:
    model = models.MODELS[logical_name]
    table = synth.resources[synth.logical_id(synth.stack.tables.tables[logical_name])]
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    properties = table["Properties"]
    types = {
        attribute.attr_name: attribute.attr_type for attribute in model.get_attributes().values()
    }  # the model, read independently of infra's key_schema
    assert model._hash_keyname is not None
    expected_keys = [{"AttributeName": model._hash_keyname, "KeyType": "HASH"}]
    if model._range_keyname:
        expected_keys.append({"AttributeName": model._range_keyname, "KeyType": "RANGE"})
    assert properties["KeySchema"] == expected_keys
    expected_indexes = []
    key_names = {key["AttributeName"] for key in expected_keys}
    for index in model._indexes.values():
        index_keys = [
            {"AttributeName": attribute.attr_name, "KeyType": "HASH" if attribute.is_hash_key else "RANGE"}
            for attribute in sorted(index.Meta.attributes.values(), key=lambda a: not a.is_hash_key)
        ]
        key_names |= {key["AttributeName"] for key in index_keys}
        projection: dict[str, Any] = {"ProjectionType": index.Meta.projection.projection_type}
        if index.Meta.projection.non_key_attributes:
            projection["NonKeyAttributes"] = list(index.Meta.projection.non_key_attributes)
        expected_indexes.append({"IndexName": index.Meta.index_name, "KeySchema": index_keys, "Projection": projection})
    assert {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]} == {
        name: types[name] for name in key_names
    }
    indexes = sorted(properties.get("GlobalSecondaryIndexes", []), key=lambda index: index["IndexName"])
    assert indexes == sorted(expected_indexes, key=lambda index: index["IndexName"])
    ttl = models.ttl_attribute(model)
    if ttl:
        assert properties["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in properties
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"]["SSEEnabled"] is True
    (replica,) = properties["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is True  # retain_data defaults to true


def test_idempotency_table_expires_records_by_ttl() -> None:
    assert key_schema(models.IdempotencyModel).ttl_attribute == "expiration"


@pytest.mark.parametrize("spec", manifest.QUEUES, ids=lambda spec: spec.name)
def test_queue_and_dead_letter_queue_follow_the_spec(synth: Synth, spec: manifest.QueueSpec) -> None:
    queue_id = synth.logical_id(synth.stack.queues.queues[spec.name])
    dlq_id = synth.logical_id(synth.stack.queues.dead_letter_queues[spec.name])
    queue = synth.resources[queue_id]["Properties"]
    dlq = synth.resources[dlq_id]["Properties"]
    for properties in (queue, dlq):
        assert properties.get("FifoQueue", False) is spec.fifo
        assert properties["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": spec.max_receive_count,
    }
    consumer = manifest.queue_consumer(spec.name)
    assert queue["VisibilityTimeout"] >= manifest.VISIBILITY_TIMEOUT_FACTOR * consumer.timeout_s
    assert queue["VisibilityTimeout"] == manifest.visibility_timeout_s(consumer)
    assert dlq["MessageRetentionPeriod"] == manifest.DLQ_RETENTION_S
    for logical_id in (queue_id, dlq_id):
        policies = [
            p["Properties"]
            for p in synth.of_type("AWS::SQS::QueuePolicy").values()
            if {"Ref": logical_id} in p["Properties"]["Queues"]
        ]
        statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
        assert {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
        } in statements


def test_event_source_mappings_are_the_manifest_queue_triggers(synth: Synth) -> None:
    mappings = {
        (next(iter(referenced_ids(m["Properties"]["EventSourceArn"]))), m["Properties"]["FunctionName"]["Ref"]): m[
            "Properties"
        ]
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    expected = {
        (synth.logical_id(synth.stack.queues.queues[spec.queue_trigger]), synth.function(spec.name)[0]): spec
        for spec in manifest.FUNCTIONS
        if spec.queue_trigger is not None
    }
    assert set(mappings) == set(expected)
    assert manifest.queue_consumer(manifest.DEADLINES_QUEUE).name == "finalizer"
    for key, spec in expected.items():
        assert spec.queue_trigger is not None
        queue_spec = manifest.queue(spec.queue_trigger)
        assert mappings[key]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mappings[key]["BatchSize"] == queue_spec.batch_size


def test_dynamodb_traffic_from_the_vpc_uses_a_gateway_endpoint(synth: Synth) -> None:
    endpoints = [e["Properties"] for e in synth.of_type("AWS::EC2::VPCEndpoint").values()]
    (dynamodb,) = [e for e in endpoints if "dynamodb" in str(e["ServiceName"])]
    assert dynamodb["VpcEndpointType"] == "Gateway"
    assert dynamodb["VpcId"] == {"Ref": synth.logical_id(synth.stack.network.vpc)}
    private_route_tables = {
        synth.logical_id(subnet.node.find_child("RouteTable")) for subnet in synth.stack.network.vpc.private_subnets
    }
    assert referenced_ids(dynamodb["RouteTableIds"]) == private_route_tables
