"""Imports a development-only package: the dependencies layer does not ship moto, so this function's
init must fail with `Runtime.ImportModuleError`, as it would on AWS."""

from __future__ import annotations

from typing import Any

import moto  # noqa: F401 - the import is the test


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return {"imported": True}
