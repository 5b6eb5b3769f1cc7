"""Where har-demo keeps what it can make again (frame caches, example answers, checked rewrites)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "HAR_DEMO_CACHE"


def cache_home() -> Path:
    """$HAR_DEMO_CACHE, else ~/.cache/har_demo (read at each call, so a test can point it elsewhere)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "har_demo")
