"""Every manifest function: runtime, placement, environment and IAM derived from its needs alone."""

from __future__ import annotations

import pytest

from infra.constructs.functions import VPC_ACCESS_ACTIONS
from speedrun import manifest
from speedrun.manifest import Access
from tests.infra.infra_template import Synth, actions_of, referenced_ids

FUNCTION_NAMES = [spec.name for spec in manifest.FUNCTIONS]
DYNAMODB_WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
SQS_CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
ALWAYS = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def expected_env(spec: manifest.FunctionSpec) -> set[str]:
    env = {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
        "POWERTOOLS_METRICS_NAMESPACE",
        "STAGE",
        "PYDANTIC_DISABLE_PLUGINS",
    }
    needs = spec.needs
    if needs.redis:
        env |= {manifest.REDIS_URL_ENV, manifest.REDIS_CLUSTER_ENV, manifest.REDIS_AUTH_SECRET_ENV}
    if needs.question_store is not None:
        env.add(manifest.QUESTION_STORE_ENV)
    if needs.images is not None:
        env.add(manifest.IMAGE_STORE_ENV)
    env |= {manifest.table_env(table) for table in needs.tables}
    env |= {manifest.queue_env(queue) for queue in needs.send_to_queues}
    if needs.token_secret:
        env.add(manifest.TOKEN_SECRET_ENV)
    if needs.push_to_connections:
        env.add(manifest.CONNECTIONS_URL_ENV)
    if needs.ws_url:
        env.add(manifest.WS_URL_ENV)
    if spec.needs.cognito_tokens:
        env |= {manifest.USER_POOL_CLIENT_ID_ENV, manifest.COGNITO_ISSUER_ENV}
    return env


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_runtime_and_sizing_follow_the_manifest(synth: Synth, name: str) -> None:
    spec = manifest.function(name)
    _, function = synth.function(name)
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == spec.handler
    assert function["MemorySize"] == spec.memory_mb
    assert function["Timeout"] == spec.timeout_s
    assert function["TracingConfig"] == {"Mode": "Active"}
    layers = referenced_ids(function["Layers"])
    assert layers == {synth.logical_id(synth.stack.layers.shared), synth.logical_id(synth.stack.layers.dependencies)}
    log_group = synth.resources[function["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 30


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_environment_is_exactly_what_its_needs_imply(synth: Synth, name: str) -> None:
    spec = manifest.function(name)
    _, function = synth.function(name)
    env = function["Environment"]["Variables"]
    assert set(env) == expected_env(spec)
    assert env["POWERTOOLS_SERVICE_NAME"] == name
    assert env["STAGE"] == "dev"
    for table in spec.needs.tables:
        assert env[manifest.table_env(table)] == {"Ref": synth.logical_id(synth.stack.tables.tables[table])}
    for queue in spec.needs.send_to_queues:
        assert env[manifest.queue_env(queue)] == {"Ref": synth.logical_id(synth.stack.queues.queues[queue])}
    if spec.needs.redis:
        url = env[manifest.REDIS_URL_ENV]["Fn::Join"][1]
        assert url[0] == "rediss://"
        cache_id = synth.logical_id(synth.stack.cache.resource)
        assert url[1] == {"Fn::GetAtt": [cache_id, "Endpoint.Address"]}
        assert url[3] == {"Fn::GetAtt": [cache_id, "Endpoint.Port"]}
        assert env[manifest.REDIS_CLUSTER_ENV] == "1"
    if spec.needs.question_store is not None:
        assert env[manifest.QUESTION_STORE_ENV] == manifest.QUESTION_STORE_MOUNT
    if spec.needs.images is not None:
        image_bucket = synth.logical_id(synth.stack.edge.image_bucket)
        assert env[manifest.IMAGE_STORE_ENV] == {"Fn::Join": ["", ["s3://", {"Ref": image_bucket}]]}
    if spec.needs.token_secret:
        assert env[manifest.TOKEN_SECRET_ENV] == {"Ref": synth.logical_id(synth.stack.token_secret.secret)}
    if spec.needs.push_to_connections:
        callback = env[manifest.CONNECTIONS_URL_ENV]["Fn::Join"][1]
        assert callback[0] == "https://"
        assert callback[1] == {"Ref": synth.logical_id(synth.stack.websocket_api.api)}
        assert callback[-1] == "/dev"
    if spec.needs.ws_url:
        ws_url = env[manifest.WS_URL_ENV]["Fn::Join"][1]
        distribution_id = synth.logical_id(synth.stack.edge.distribution)
        assert ws_url == ["wss://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/ws"]
    if spec.needs.cognito_tokens:
        # The ID tokens the function verifies itself: issued by this stack's pool for its web client.
        pool_id = synth.logical_id(synth.stack.identity.user_pool)
        assert env[manifest.USER_POOL_CLIENT_ID_ENV] == {"Ref": synth.logical_id(synth.stack.identity.client)}
        assert env[manifest.COGNITO_ISSUER_ENV] == {"Fn::GetAtt": [pool_id, "ProviderURL"]}


def test_functions_with_in_function_routes_verify_user_tokens() -> None:
    verifying = {spec.name for spec in manifest.FUNCTIONS if spec.needs.cognito_tokens}
    in_function = {spec.name for route, spec in manifest.http_routes() if route.auth is manifest.Auth.IN_FUNCTION}
    assert in_function <= verifying
    # Sign-on: a join naming a claimed player handle carries the handle owner's ID token.
    assert verifying == {"results", "signon"}


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_only_functions_using_redis_or_efs_are_in_the_vpc(synth: Synth, name: str) -> None:
    spec = manifest.function(name)
    _, function = synth.function(name)
    if spec.in_vpc:
        vpc = function["VpcConfig"]
        assert vpc["SecurityGroupIds"] == [
            {"Fn::GetAtt": [synth.logical_id(synth.stack.network.function_sg), "GroupId"]}
        ]
        private = {synth.logical_id(s) for s in synth.stack.network.vpc.private_subnets}
        assert referenced_ids(vpc["SubnetIds"]) == private
    else:
        assert "VpcConfig" not in function
    if spec.needs.question_store is not None:
        (mount,) = function["FileSystemConfigs"]
        assert mount["LocalMountPath"] == manifest.QUESTION_STORE_MOUNT
        assert referenced_ids(mount["Arn"]) == {synth.logical_id(synth.stack.question_store.access_point)}
    else:
        assert "FileSystemConfigs" not in function


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_role_grants_only_what_needs_imply(synth: Synth, name: str) -> None:
    spec = manifest.function(name)
    needs = spec.needs
    role = synth.role(name)
    assert "ManagedPolicyArns" not in role, "no AWS managed policies: logs go to the function's own group"
    statements = synth.role_statements(name)
    assert all(statement["Effect"] == "Allow" for statement in statements)
    actions = actions_of(statements)

    table_ids = {synth.logical_id(synth.stack.tables.tables[t]): access for t, access in needs.tables.items()}
    send_ids = {synth.logical_id(synth.stack.queues.queues[q]) for q in needs.send_to_queues}
    trigger_id = (
        synth.logical_id(synth.stack.queues.queues[spec.queue_trigger]) if spec.queue_trigger is not None else None
    )
    function_id, _ = synth.function(name)
    log_group_id = synth.resources[function_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    for statement in statements:
        statement_actions = actions_of([statement])
        refs = referenced_ids(statement["Resource"])
        services = {action.split(":")[0] for action in statement_actions}
        assert len(services) == 1 or statement["Resource"] == "*", statement
        service = services.pop() if len(services) == 1 else "*"
        if statement["Resource"] == "*":
            allowed = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
            if spec.in_vpc:
                allowed |= set(VPC_ACCESS_ACTIONS)
            assert statement_actions <= allowed, statement
        elif service == "logs":
            assert refs == {log_group_id}
        elif service == "dynamodb":
            assert refs and refs <= set(table_ids), statement
            if statement_actions & DYNAMODB_WRITE:
                assert all(table_ids[ref] is Access.WRITE for ref in refs), statement
        elif service == "sqs":
            if statement_actions & SQS_CONSUME:
                assert refs == {trigger_id}, statement
            else:
                assert statement_actions <= {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
                assert refs <= send_ids, statement
        elif service == "secretsmanager":
            readable = set()
            if needs.token_secret:
                readable.add(synth.logical_id(synth.stack.token_secret.secret))
            if needs.redis:
                readable.add(synth.logical_id(synth.stack.cache.auth_secret))
            assert refs and refs <= readable, statement
            assert statement_actions == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
        elif service == "execute-api":
            assert needs.push_to_connections
            assert statement_actions == {"execute-api:ManageConnections"}
            resource = statement["Resource"]["Fn::Join"][1]
            assert resource[-1] == "/dev/*/@connections/*"
            assert refs == {synth.logical_id(synth.stack.websocket_api.api)}
        elif service == "elasticfilesystem":
            expected = {"elasticfilesystem:ClientMount"}
            if needs.question_store is Access.WRITE:
                expected.add("elasticfilesystem:ClientWrite")
            assert statement_actions == expected
            assert refs == {synth.logical_id(synth.stack.question_store.file_system)}
        elif service == "s3":
            expected = {"s3:GetObject"} | ({"s3:PutObject"} if needs.images is Access.WRITE else set())
            assert statement_actions == expected
            image_bucket = synth.logical_id(synth.stack.edge.image_bucket)
            assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [image_bucket, "Arn"]}, "/images/*"]]}
        else:
            pytest.fail(f"{name} has an unexpected grant: {statement}")

    # And each need is actually granted (no missing permission at run time).
    assert actions >= ALWAYS
    assert bool(actions & {"dynamodb:GetItem"}) == bool(needs.tables)
    assert bool(actions & DYNAMODB_WRITE) == any(a is Access.WRITE for a in needs.tables.values())
    assert ("sqs:SendMessage" in actions) == bool(needs.send_to_queues)
    assert ("sqs:ReceiveMessage" in actions) == (spec.queue_trigger is not None)
    assert ("secretsmanager:GetSecretValue" in actions) == (needs.token_secret or needs.redis)
    assert ("execute-api:ManageConnections" in actions) == needs.push_to_connections
    assert ("elasticfilesystem:ClientMount" in actions) == (needs.question_store is not None)
    assert ("elasticfilesystem:ClientWrite" in actions) == (needs.question_store is Access.WRITE)
    assert ("s3:GetObject" in actions) == (needs.images is not None)
    assert ("s3:PutObject" in actions) == (needs.images is Access.WRITE)
    assert ("ec2:CreateNetworkInterface" in actions) == spec.in_vpc


def test_api_docs_touches_no_data(synth: Synth) -> None:
    services = {action.split(":")[0] for action in actions_of(synth.role_statements("api_docs"))}
    assert services == {"logs", "xray"}


def test_each_functions_code_is_its_own_folder_and_layers_are_the_shared_package_and_dependencies(synth: Synth) -> None:
    manifest_file = synth.outdir / "SpeedRun-dev.assets.json"
    assert manifest_file.is_file()
    shared = synth.resources[synth.logical_id(synth.stack.layers.shared)]["Properties"]
    assert shared["CompatibleArchitectures"] == ["arm64"]
    assert shared["CompatibleRuntimes"] == ["python3.12"]
    asset_dirs = {path.name: path for path in synth.outdir.iterdir() if path.name.startswith("asset.")}
    shared_dir = asset_dirs[f"asset.{shared['Content']['S3Key'].removesuffix('.zip')}"]
    assert (shared_dir / "python" / "speedrun" / "manifest.py").is_file()
    assert not list(shared_dir.rglob("__pycache__"))
    dependencies = synth.resources[synth.logical_id(synth.stack.layers.dependencies)]["Properties"]
    deps_dir = asset_dirs[f"asset.{dependencies['Content']['S3Key'].removesuffix('.zip')}"]
    assert (deps_dir / "python" / "pydantic").is_dir()
    assert list((deps_dir / "python" / "pydantic_core").glob("_pydantic_core.cpython-312-aarch64-linux-gnu.so"))
    assert not (deps_dir / "python" / "botocore").exists(), "the runtime's SDK must not be shadowed"
    for spec in manifest.FUNCTIONS:
        _, function = synth.function(spec.name)
        assert function["Handler"] == "handler.handler"
        code_dir = asset_dirs[f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"]
        extra = [manifest.OPENAPI_FILE] if spec.openapi_document else []
        assert sorted(path.name for path in code_dir.iterdir()) == sorted(["handler.py", *extra]), spec.name


def test_the_results_function_reads_live_runs_from_redis_and_queries_the_table_indexes(synth: Synth) -> None:
    """Issue 12 item 5: a host's runs are served live (Redis) until persisted, and listed through the
    runs table's `runs_by_host` index; a host's view of a player's games uses `games_by_host_handle`."""
    spec = manifest.function("results")
    assert spec.needs.redis and spec.in_vpc
    _, function = synth.function("results")
    assert "VpcConfig" in function
    assert manifest.REDIS_URL_ENV in function["Environment"]["Variables"]
    index_grants = {
        ref
        for statement in synth.role_statements("results")
        if "dynamodb:Query" in actions_of([statement])
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        if "/index/*" in str(resource)
        for ref in referenced_ids(resource)
    }
    tables = synth.stack.tables.tables
    assert index_grants == {synth.logical_id(tables[manifest.RUNS]), synth.logical_id(tables[manifest.PLAYER_GAMES])}
