"""A stand-in for Hugging Face's `spaces` package (ZeroGPU), for tests: put its folder first on
PYTHONPATH. `spaces.GPU` behaves as the real decorator's interface does (`@spaces.GPU`,
`@spaces.GPU(duration=seconds)` or `duration=callable(*args, **kwargs)`), and records what it
decorated and every call, in `DECORATED` / `CALLS` (`ACTIVE` counts the calls running) and, if FAKE_SPACES_LOG names a file, as JSON
lines there. Like ZeroGPU, where a GPU function runs in another process, arguments and results
are pickled on the way in and out, so a function whose arguments cannot cross fails here too.
"""

from __future__ import annotations

import functools
import json
import os
import pickle

DECORATED: list[dict] = []
CALLS: list[dict] = []
ACTIVE = 0  # how many GPU calls are running now (a model call made while it is 0 escaped them)


def _log(entry: dict) -> None:
    path = os.environ.get("FAKE_SPACES_LOG")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(entry) + "\n")


def GPU(function=None, *, duration=60, size="large"):  # noqa: N802  (the real package's name)
    def decorate(fn):
        name = f"{fn.__module__}.{fn.__qualname__}"
        entry = {"event": "decorated", "function": name, "duration": duration if not callable(duration) else "dynamic"}
        DECORATED.append(entry)
        _log(entry)

        @functools.wraps(fn)
        def gpu_call(*args, **kwargs):
            args, kwargs = pickle.loads(pickle.dumps((args, kwargs)))  # the process boundary
            seconds = duration(*args, **kwargs) if callable(duration) else duration
            if not isinstance(seconds, int) or seconds <= 0:
                raise ValueError(f"illegal duration {seconds!r}")
            call = {"event": "call", "function": name, "duration": seconds}
            CALLS.append(call)
            _log(call)
            global ACTIVE
            ACTIVE += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                ACTIVE -= 1
            return pickle.loads(pickle.dumps(result))

        return gpu_call

    return decorate(function) if function is not None else decorate
