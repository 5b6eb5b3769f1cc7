"""The fast-path rewrite checked against its original model once per model file, then remembered.

The check runs the loaded model and its rewrite (har_demo.fastpath) eagerly on one clip: most of
a Predictor's start-up when done every time. Its answer depends only on the model file, the
rewrite's code, Keras and the backend, so a pass is kept in the cache folder under a key made of
those four, and a bundle served again starts without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from har_demo.cache_dirs import cache_home

TOLERANCE = 1e-4


def _passes_file() -> Path:
    return cache_home() / "checked_rewrites.json"


def rewrite_key(model_sha256: str, backend: str) -> str:
    """What a check's answer depends on: the model file, the rewrite's source, Keras and the backend."""
    import keras

    rewrite = hashlib.sha256((Path(__file__).parent / "fastpath.py").read_bytes()).hexdigest()
    return hashlib.sha256(f"{model_sha256} {rewrite} {keras.__version__} {backend}".encode()).hexdigest()


def _passes() -> dict:
    try:
        found = json.loads(_passes_file().read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def remembered(key: str | None) -> bool:
    return key is not None and key in _passes()


def remember(key: str, error: float) -> None:
    """Keep a pass (atomically; a cache folder that cannot be written only costs the next check)."""
    path = _passes_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        passes = {**_passes(), key: error}
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
            json.dump(passes, handle)
        os.replace(handle.name, path)
    except OSError:
        pass


def checked_runner(model, runner, x: np.ndarray, key: str | None = None, tolerance: float = TOLERANCE):
    """`runner` (a rewrite of `model`) if it gives `model`'s outputs on `x`, else `model` (with a warning).

    Both run eagerly: tracing the original's frame loops for one check cost more than the rewrite's
    whole warm-up. With `key` (rewrite_key), a check passed before is not run again.
    """
    if runner is model or remembered(key):
        return runner
    from keras import ops  # the backend is chosen by now: there is a model

    try:
        eager = ops.convert_to_numpy(model(x, training=False))
        error = float(np.max(np.abs(ops.convert_to_numpy(runner(x, training=False)) - eager)))
    except Exception as exc:
        error, reason = np.inf, f"{type(exc).__name__}: {exc}"
    else:
        reason = f"outputs differ by {error:.2g}"
    if not error <= tolerance:
        warnings.warn(
            f"{model.name}: the fast inference model failed its check ({reason}); using the original", stacklevel=2
        )
        return model
    if key is not None:
        remember(key, error)
    return runner
