"""The local gateway's HTTP side: API Gateway HTTP API v2 events, the JWT authorizer, responses,
/config.json, static files and the same-origin Cognito proxy."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from joserfc import jwk, jwt
from moto.utilities.utils import load_resource

from infra.security_headers import content_security_policy, response_headers
from local_stack.client import multipart_body, sign_in
from local_stack.stack import LocalStack
from tests.integration.local_stack.local_stack_handlers import recorder
from tests.integration.local_stack.local_stack_spec import spec_stack


@pytest.fixture(scope="module")
def stack(redis_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    web_dir = tmp_path_factory.mktemp("web")
    (web_dir / "index.html").write_text("<h1>speed-runs</h1>")
    with spec_stack(redis_server_url, web_dir) as running:
        yield running


@pytest.fixture(scope="module")
def id_token(stack: LocalStack) -> str:
    return stack.sign_in_host()


@pytest.fixture
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    recorder.clear()
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


def _only_event() -> dict:
    events = recorder.received("http_echo")
    assert len(events) == 1
    return events[0]


def test_a_get_becomes_a_v2_event_with_path_and_query_parameters_and_cookies(http: httpx.Client, id_token: str) -> None:
    reply = http.get(
        "/api/items/it%20em-7?b=2&a=1&a=3",
        headers={"Authorization": f"Bearer {id_token}", "X-Custom": "yes", "Cookie": "c1=v1; c2=v2"},
    )
    assert reply.status_code == 200
    assert reply.headers["x-route-key"] == "GET /api/items/{item_id}"
    event = _only_event()
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.version == "2.0"
    assert parsed.routeKey == "GET /api/items/{item_id}"
    assert parsed.rawPath == "/api/items/it%20em-7"
    assert parsed.rawQueryString == "b=2&a=1&a=3"
    assert parsed.queryStringParameters == {"b": "2", "a": "1,3"}
    assert parsed.pathParameters == {"item_id": "it em-7"}
    assert parsed.cookies == ["c1=v1", "c2=v2"]
    assert "cookie" not in parsed.headers
    assert parsed.headers["x-custom"] == "yes"
    assert parsed.requestContext.stage == "$default"
    assert parsed.requestContext.http.method == "GET"
    assert parsed.requestContext.http.sourceIp is not None
    assert parsed.body is None


def test_user_routes_get_the_verified_cognito_claims(http: httpx.Client, id_token: str) -> None:
    reply = http.get("/api/items/1", headers={"Authorization": f"Bearer {id_token}"})
    assert reply.status_code == 200
    claims = _only_event()["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:username"] == "host"
    assert claims["token_use"] == "id"
    assert claims["sub"]
    assert isinstance(claims["exp"], str), "API Gateway passes every claim as a string"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic aG9zdDpwdw=="],
    ids=["missing", "garbage", "wrong-scheme"],
)
def test_user_routes_refuse_requests_without_a_valid_token(http: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    reply = http.get("/api/items/1", headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {"message": "Unauthorized"}
    assert recorder.received("http_echo") == []


def test_a_token_signed_by_another_key_is_refused(http: httpx.Client, id_token: str) -> None:
    header, payload, _signature = id_token.split(".")
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 256).decode().rstrip('=')}"
    assert http.get("/api/items/1", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_in_function_routes_pass_through_with_or_without_claims(http: httpx.Client, id_token: str) -> None:
    assert http.get("/api/either", headers={"Authorization": "Bearer run-token"}).status_code == 200
    assert http.get("/api/either", headers={"Authorization": f"Bearer {id_token}"}).status_code == 200
    anonymous, signed_in = recorder.received("http_echo")
    assert "authorizer" not in anonymous["requestContext"]
    assert anonymous["headers"]["authorization"] == "Bearer run-token"
    assert signed_in["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:username"] == "host"


def test_public_routes_need_no_token_and_greedy_path_parameters_match(http: httpx.Client) -> None:
    assert http.get("/api/public").status_code == 200
    assert http.get("/api/files/a/b/c.txt").status_code == 200
    public, files = recorder.received("http_echo")
    assert "authorizer" not in public["requestContext"]
    assert files["pathParameters"] == {"path": "a/b/c.txt"}


def test_json_bodies_pass_as_text_and_multipart_uploads_as_base64(http: httpx.Client, id_token: str) -> None:
    auth = {"Authorization": f"Bearer {id_token}"}
    http.post("/api/items", json={"name": "x"}, headers=auth)
    body, content_type = multipart_body({"name": "set"}, "set.csv", b"category,question\n")
    http.post("/api/items", content=body, headers={**auth, "Content-Type": content_type})
    as_json, as_multipart = (APIGatewayProxyEventV2Model.model_validate(e) for e in recorder.received("http_echo"))
    assert as_json.isBase64Encoded is False
    assert json.loads(str(as_json.body)) == {"name": "x"}
    assert as_multipart.isBase64Encoded is True
    assert base64.b64decode(str(as_multipart.body)) == body


def test_function_responses_map_status_headers_cookies_and_base64_bodies(http: httpx.Client) -> None:
    binary = http.get("/api/public?shape=binary")
    assert binary.status_code == 200
    assert binary.content == bytes(range(256))
    assert binary.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    bare = http.get("/api/public?shape=bare")
    assert bare.status_code == 200
    assert bare.json() == {"inferred": True}


def test_gateway_errors_look_like_api_gateway(http: httpx.Client) -> None:
    assert http.get("/api/nowhere").json() == {"message": "Not Found"}
    assert http.delete("/api/public").status_code == 404
    failed = http.get("/api/public?fail=1")
    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal Server Error"}
    # A function whose init fails (it imports a package its layers lack) answers as on AWS.
    missing = http.get("/api/import-fails")
    assert missing.status_code == 500
    assert missing.json() == {"message": "Internal Server Error"}


def test_config_json_tells_the_client_where_everything_is(http: httpx.Client, stack: LocalStack) -> None:
    config = http.get("/config.json").json()
    assert config["api_url"] == f"{stack.base_url}/api"
    assert config["ws_url"] == stack.ws_url
    assert config["cognito_endpoint"] == f"{stack.base_url}/cognito/"
    assert config["user_pool_id"].startswith(f"{config['region']}_")
    assert config["user_pool_client_id"]


def test_static_web_client_is_served_at_the_root(http: httpx.Client) -> None:
    assert "speed-runs" in http.get("/").text


def test_cognito_sign_in_through_the_proxy_and_wrong_password_refused(stack: LocalStack) -> None:
    config = httpx.get(f"{stack.base_url}/config.json").json()
    token = sign_in(stack.base_url, config["user_pool_client_id"], stack.host_username, stack.host_password)
    assert token.count(".") == 2
    with pytest.raises(RuntimeError, match="sign-in failed"):
        sign_in(stack.base_url, config["user_pool_client_id"], stack.host_username, "wrong-Password-1!")


@pytest.mark.parametrize(
    "operation",
    ["AdminSetUserPassword", "AdminCreateUser", "ListUsers", "SignUp", "DescribeUserPool", "AdminGetUser"],
)
def test_the_cognito_proxy_refuses_every_operation_a_browser_does_not_make(stack: LocalStack, operation: str) -> None:
    config = httpx.get(f"{stack.base_url}/config.json").json()
    body = {
        "UserPoolId": config["user_pool_id"],
        "ClientId": config["user_pool_client_id"],
        "Username": stack.host_username,
        "Password": "Attacker-chosen-1!",
        "Permanent": True,
    }
    refused = httpx.post(
        f"{stack.base_url}/cognito/",
        json=body,
        headers={
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert refused.status_code == 403
    assert "not available" in refused.json()["message"]
    # The host's password is unchanged: signing in with it still works.
    assert sign_in(stack.base_url, config["user_pool_client_id"], stack.host_username, stack.host_password)


def test_a_token_signed_with_motos_bundled_key_is_refused(http: httpx.Client, id_token: str) -> None:
    """moto ships one private key for every pool; the local stack signs with a key of its own start."""
    claims = json.loads(base64.urlsafe_b64decode(id_token.split(".")[1] + "=="))
    bundled = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    forged = jwt.encode({"kid": "dummy", "alg": "RS256"}, {**claims, "sub": "someone-else"}, bundled)
    assert http.get("/api/items/1", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert http.get("/api/items/1", headers={"Authorization": f"Bearer {id_token}"}).status_code == 200


def test_every_http_response_carries_the_sites_security_headers(http: httpx.Client) -> None:
    expected = response_headers(content_security_policy("", websocket_scheme="ws:"))
    for reply in (http.get("/"), http.get("/config.json"), http.get("/api/nowhere"), http.get("/api/public")):
        for name, value in expected.items():
            assert reply.headers[name] == value, (reply.url, name)
    assert "connect-src 'self' ws:;" in expected["Content-Security-Policy"]


def test_sample_sets_are_uploaded_through_the_upload_route_as_the_host(stack: LocalStack, tmp_path: Path) -> None:
    recorder.clear()
    (tmp_path / "capitals.json").write_text('{"questions": []}')
    (tmp_path / "animals.csv").write_text("category,question,option_1,option_2,correct\n")
    (tmp_path / "notes.md").write_text("not a question set")
    outcomes = stack.load_samples(tmp_path)
    assert [outcome.split(":")[0] for outcome in outcomes] == ["animals.csv", "capitals.json"]
    assert all("loaded as set-" in outcome for outcome in outcomes)
    uploads = recorder.received("http_echo")
    assert [event["routeKey"] for event in uploads] == ["POST /api/question-sets"] * 2
    for event, name in zip(uploads, ["animals.csv", "capitals.json"], strict=True):
        assert event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:username"] == "host"
        assert event["headers"]["content-type"].startswith("multipart/form-data; boundary=")
        assert f'filename="{name}"'.encode() in base64.b64decode(event["body"])
