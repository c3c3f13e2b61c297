"""The deploy-time options of the stack, read once from the CDK context (cdk.json or `-c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Node

from infra import names


def _flag(value: Any) -> bool:
    """Context given on the command line arrives as a string ("false" must mean False)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclass(frozen=True)
class StackOptions:
    stage: str = "dev"
    nat_gateways: int = 1
    cache_mode: str = names.CACHE_MODE_SERVERLESS
    self_sign_up: bool = False
    retain_data: bool = True
    """Keep tables, the question store and the site buckets when the stack is deleted."""
    waf_rate_limit: int = 1000
    """Requests per client IP in any 5 minutes before the web ACL blocks that IP (WAF minimum: 10)."""
    waf_logging: bool = False
    """Log every request the web ACL sees to CloudWatch Logs (us-east-1), tokens redacted."""

    def __post_init__(self) -> None:
        if self.cache_mode not in (names.CACHE_MODE_SERVERLESS, names.CACHE_MODE_NODES):
            raise ValueError(
                f"context {names.CTX_CACHE_MODE} must be {names.CACHE_MODE_SERVERLESS!r} or "
                f"{names.CACHE_MODE_NODES!r}, not {self.cache_mode!r}"
            )
        if self.waf_rate_limit < 10:
            raise ValueError(f"context {names.CTX_WAF_RATE_LIMIT} must be at least 10 (the WAF minimum)")
        if self.nat_gateways < 1:
            # Functions in the VPC reach @connections, SQS and Secrets Manager through NAT.
            raise ValueError(f"context {names.CTX_NAT_GATEWAYS} must be at least 1")

    @classmethod
    def from_context(cls, node: Node) -> StackOptions:
        defaults = cls()

        def get(key: str, default: Any) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        return cls(
            stage=str(get(names.CTX_STAGE, defaults.stage)),
            nat_gateways=int(get(names.CTX_NAT_GATEWAYS, defaults.nat_gateways)),
            cache_mode=str(get(names.CTX_CACHE_MODE, defaults.cache_mode)),
            self_sign_up=_flag(get(names.CTX_SELF_SIGN_UP, defaults.self_sign_up)),
            retain_data=_flag(get(names.CTX_RETAIN_DATA, defaults.retain_data)),
            waf_rate_limit=int(get(names.CTX_WAF_RATE_LIMIT, defaults.waf_rate_limit)),
            waf_logging=_flag(get(names.CTX_WAF_LOGGING, defaults.waf_logging)),
        )
