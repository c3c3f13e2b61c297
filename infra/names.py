"""Every construct id, output name, context key and fixed resource name of the CDK app, in one place.

Construct ids become CloudFormation logical ids, so renaming one here replaces the resource on the
next deploy: change them deliberately.
"""

from __future__ import annotations

import re

APP_NAME = "speedrun"
STACK_ID = "SpeedRun"
"""The stack's construct id; the deployed stack is `SpeedRun-<stage>`."""


def stack_name(stage: str) -> str:
    return f"{STACK_ID}-{stage}"


def web_acl_stack_name(stage: str) -> str:
    """The CloudFront web ACL's own stack (us-east-1), see infra/web_acl_stack.py."""
    return f"{STACK_ID}-{stage}-WebAcl"


# --- context keys (cdk.json, or `cdk synth -c key=value`) ---
CTX_STAGE = "stage"
CTX_NAT_GATEWAYS = "nat_gateways"
CTX_CACHE_MODE = "cache_mode"
CTX_SELF_SIGN_UP = "self_sign_up"
CTX_RETAIN_DATA = "retain_data"
CTX_WAF_RATE_LIMIT = "waf_rate_limit"
CTX_WAF_LOGGING = "waf_logging"
CACHE_MODE_SERVERLESS = "serverless"
CACHE_MODE_NODES = "nodes"

# --- constructs of the stack (one per concern) ---
NETWORK = "Network"
CACHE = "Cache"
QUESTION_STORE = "QuestionStore"
TABLES = "Tables"
QUEUES = "Queues"
LAYERS = "Layers"
TOKEN_SECRET = "TokenSecret"  # noqa: S105 - a construct id
IDENTITY = "Identity"
FUNCTIONS = "Functions"
HTTP_API = "HttpApi"
WEBSOCKET_API = "WebSocketApi"
EDGE = "Edge"
MONITORING = "Monitoring"

# --- inside the constructs ---
VPC = "Vpc"
VPC_FLOW_LOGS = "FlowLogs"
REDIS_SG = "RedisSecurityGroup"
EFS_SG = "QuestionStoreSecurityGroup"
FUNCTION_SG = "FunctionSecurityGroup"
CACHE_SUBNET_GROUP = "SubnetGroup"
CACHE_SERVERLESS = "Serverless"
CACHE_REPLICATION_GROUP = "ReplicationGroup"
CACHE_USER_GROUP = "UserGroup"
CACHE_APP_USER = "AppUser"
CACHE_DEFAULT_USER = "DefaultUser"
CACHE_AUTH_SECRET = "AppUserSecret"  # noqa: S105 - a construct id
CACHE_DEFAULT_USER_SECRET = "DefaultUserSecret"  # noqa: S105 - a construct id
FILE_SYSTEM = "FileSystem"
ACCESS_POINT = "AccessPoint"
SHARED_LAYER = "SharedLayer"
DEPENDENCIES_LAYER = "DependenciesLayer"
USER_POOL = "UserPool"
USER_POOL_CLIENT = "WebClient"
HTTP_API_ACCESS_LOGS = "AccessLogs"
HTTP_API_STAGE = "DefaultStage"
HTTP_AUTHORIZER = "UserPoolAuthorizer"
WS_STAGE = "Stage"
WS_ACCESS_LOGS = "AccessLogs"
WS_AUTHORIZER = "ConnectAuthorizer"
SITE_BUCKET = "SiteBucket"
IMAGE_BUCKET = "ImageBucket"
IMAGE_CACHE_POLICY = "ImageCachePolicy"
LOG_BUCKET = "LogBucket"
SITE_DEPLOYMENT = "SiteDeployment"
DISTRIBUTION = "Distribution"
WS_PATH_REWRITE = "WebSocketPathRewrite"
WS_ORIGIN_REQUEST_POLICY = "WebSocketOriginRequestPolicy"
SECURITY_HEADERS = "SecurityHeaders"
ALARM_TOPIC = "AlarmTopic"
WEB_ACL = "WebAcl"
WEB_ACL_PARAMETER = "WebAclArnParameter"
WEB_ACL_LOGS = "WebAclLogs"
WEB_ACL_LOGGING = "WebAclLogging"
WEB_ACL_READER = "WebAclArnReader"
WEB_ACL_REFERENCE = "WebAclReference"
WAF_RATE_RULE = "RateLimitPerIp"

HTTP_API_THROTTLE_RATE = 200
HTTP_API_THROTTLE_BURST = 400
WS_THROTTLE_RATE = 500
WS_THROTTLE_BURST = 1000
HTTP_ROUTE_THROTTLES: dict[str, tuple[float, int]] = {
    # route key: (requests per second, burst), below the stage's default where abuse is cheap to send.
    "POST /api/signon/join": (50, 100),
    "POST /api/signon/speedruns": (10, 20),
    "POST /api/question-sets": (5, 10),
    "PUT /api/question-sets/{set_id}": (5, 10),  # a replace is an upload: the same parse of up to 4 MiB
    "POST /api/images": (10, 20),  # decodes up to 2 x 4096 x 4096 pixels; an editor sends a set's images in turn
    "PUT /api/players/{handle}": (20, 40),
    "POST /api/players/{handle}/progress": (20, 40),
}
"""Per-route throttling on the HTTP API stage; every key must be a route of the manifest."""
WS_ROUTE_THROTTLES: dict[str, tuple[float, int]] = {"$connect": (100, 200)}
"""Per-route throttling on the WebSocket stage: connection floods, below the per-message default."""
LOG_RETENTION_DAYS = 30
"""Function, API access and flow logs (logs.RetentionDays.ONE_MONTH)."""

# --- the web client ---
WEB_CONFIG_KEY = "config.json"
API_PATH_PATTERN = "/api/*"
WS_PATH = "/ws"
"""Clients connect to wss://<site>/ws; a CloudFront function rewrites it to the WebSocket API's stage."""

# --- the run-token signing secret ---
TOKEN_SECRET_FIRST_KID = "k1"  # noqa: S105 - a key id
"""Key id of the generated signing key; the secret is `{"current": "k1", "keys": {"k1": "<random>"}}`."""
TOKEN_SECRET_CURRENT_FIELD = "current"  # noqa: S105 - a JSON member name
TOKEN_SECRET_KEYS_FIELD = "keys"  # noqa: S105 - a JSON member name

# --- stack outputs ---
OUTPUT_SITE_URL = "SiteUrl"
OUTPUT_API_URL = "ApiUrl"
OUTPUT_WS_URL = "WebSocketUrl"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"


def pascal(name: str) -> str:
    """`players_worker` -> `PlayersWorker`: construct ids for manifest names (functions, tables, queues)."""
    return "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", name) if part)


FUNCTION_TAG = "speedrun:function"
"""Tag on every Lambda function: its manifest name (the local stack finds each function's definition in
the synthesized template by it)."""


def function_id(name: str) -> str:
    return f"{pascal(name)}Function"


def table_id(name: str) -> str:
    return f"{pascal(name)}Table"


def queue_id(name: str) -> str:
    return f"{pascal(name)}Queue"


def dlq_id(name: str) -> str:
    return f"{pascal(name)}DeadLetterQueue"


def metrics_namespace(stage: str) -> str:
    return f"SpeedRun/{stage}"
