"""The OpenAPI document (openapi.yml beside this file), loaded once and served as JSON."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

OPENAPI_FILE = Path(__file__).parent / "openapi.yml"


@functools.lru_cache(maxsize=1)
def _cached() -> dict[str, Any]:
    with OPENAPI_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_openapi() -> dict[str, Any]:
    return _cached()
