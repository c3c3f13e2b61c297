"""The environment, read and validated once per process (a Lambda container or the local stack).

The CDK app sets exactly the variables a function's manifest `needs` call for; the local stack sets
all of them. A function that asks for a setting it was not given fails at start-up with a message
naming the variable, never later with a KeyError.

A pydantic model over `os.environ` (each field's alias is its variable): the validation
pydantic-settings would do, without the ~30 ms its import adds to every cold start
(docs/performance.md). Keyword arguments override the environment, as in `Settings(redis_url=...)`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from speedrun import manifest


class MissingSetting(RuntimeError):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=False)

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, overrides: Any) -> Any:
        """The variables that are set, under their fields' names, then the keyword arguments."""
        if not isinstance(overrides, dict):
            return overrides
        environment = {
            name: os.environ[str(field.validation_alias)]
            for name, field in cls.model_fields.items()
            if str(field.validation_alias) in os.environ
        }
        return {**environment, **overrides}

    stage: str = Field(default="local", validation_alias="STAGE")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    question_store_path: str | None = Field(default=None, validation_alias=manifest.QUESTION_STORE_ENV)
    image_store_url: str | None = Field(default=None, validation_alias=manifest.IMAGE_STORE_ENV)
    """Where images are stored (`speedrun.adapters.image_store.image_store_from_settings`)."""
    redis_url: str | None = Field(default=None, validation_alias=manifest.REDIS_URL_ENV)
    redis_cluster: bool = Field(default=False, validation_alias=manifest.REDIS_CLUSTER_ENV)
    redis_auth_secret_id: str | None = Field(default=None, validation_alias=manifest.REDIS_AUTH_SECRET_ENV)
    token_secret_id: str | None = Field(default=None, validation_alias=manifest.TOKEN_SECRET_ENV)
    connections_url: str | None = Field(default=None, validation_alias=manifest.CONNECTIONS_URL_ENV)
    ws_url: str | None = Field(default=None, validation_alias=manifest.WS_URL_ENV)
    user_pool_client_id: str | None = Field(default=None, validation_alias=manifest.USER_POOL_CLIENT_ID_ENV)
    cognito_issuer: str | None = Field(default=None, validation_alias=manifest.COGNITO_ISSUER_ENV)
    cognito_jwks_url: str | None = Field(default=None, validation_alias=manifest.COGNITO_JWKS_URL_ENV)
    join_unknown_codes_per_viewer_per_minute: int = Field(
        default=100, ge=1, validation_alias=manifest.JOIN_UNKNOWN_CODES_PER_VIEWER_ENV
    )
    """Join-flood protection (speedrun.signon.join_limit): unknown join codes a minute per viewer address."""
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    """Only the local stack sets this (moto server); deployed functions use the real endpoints."""

    def require(self, field_name: str) -> str:
        value = getattr(self, field_name)
        if value in (None, ""):
            alias = type(self).model_fields[field_name].validation_alias or field_name.upper()
            raise MissingSetting(f"environment variable {alias} is not set")
        return str(value)

    @staticmethod
    def queue_url(queue_name: str) -> str:
        env = manifest.queue_env(queue_name)
        value = os.environ.get(env)
        if not value:
            raise MissingSetting(f"environment variable {env} is not set")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
