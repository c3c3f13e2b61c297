"""The CDK app's constructs. The shared domain package lives in its layer folder; make it importable
here too, so `python app.py` works without PYTHONPATH (the manifest and the table models drive the
stack)."""

from __future__ import annotations

import sys
from pathlib import Path

_SHARED = str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")
if _SHARED not in sys.path:
    sys.path.append(_SHARED)
