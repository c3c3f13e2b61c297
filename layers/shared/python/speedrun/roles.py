"""Whom a run token or a run's connection speaks for: the run's host or one of its participants."""

from __future__ import annotations

from typing import Literal

Role = Literal["host", "participant"]
HOST: Role = "host"
PARTICIPANT: Role = "participant"
ROLES: tuple[Role, ...] = (HOST, PARTICIPANT)
