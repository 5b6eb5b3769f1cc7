"""ZeroGPU: a request's GPU work inside `@spaces.GPU` functions, when `spaces` is importable.

On a ZeroGPU Space (Hugging Face's shared GPUs, made for PyTorch: run it with
KERAS_BACKEND=torch, see docs/app.md) a process holds a GPU only while a function decorated
with `spaces.GPU(duration=...)` runs; the duration is the most it may take, and a shorter one
queues sooner. So exactly the functions that run models are decorated, each with a duration
sized to its work: `gpu_task(duration)` below. Where `spaces` is not installed (a laptop, CI,
a CPU Space) `gpu_task` returns the function itself and nothing changes; the real package's
decorator also does nothing outside ZeroGPU.

`spaces` is imported here, before Keras and torch, because ZeroGPU patches torch's CUDA
start-up and asks to be imported first; har_demo.backend imports this module for that reason.

An object that holds models goes through `call_on_gpu(obj, "method", *args)` (the trampoline at
the end of this module): the Predictor's model calls do. Use `gpu_task` for other GPU work:

    from har_demo.gpu import gpu_task

    @gpu_task(duration=lambda model, batches: 10 + 2 * len(batches))
    def train_steps(model, batches): ...
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

try:  # the Hugging Face `spaces` package: present on Spaces, usually absent elsewhere
    import spaces
except ImportError:
    spaces = None

F = TypeVar("F", bound=Callable)

MAX_DURATION_S = 120  # ZeroGPU's ceiling for a visitor without a Pro account
MIN_DURATION_S = 5


def zero_gpu_available() -> bool:
    """True when `spaces` is importable, so GPU functions are wrapped in `spaces.GPU`."""
    return spaces is not None


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space itself (the `spaces` package's own configuration says so)."""
    if spaces is None:
        return False
    try:
        from spaces.config import Config

        return bool(Config.zero_gpu)
    except Exception:  # an older or a stand-in `spaces` without that setting
        return False


def clamp_duration(seconds: float) -> int:
    """A duration ZeroGPU accepts: whole seconds within [MIN_DURATION_S, MAX_DURATION_S]."""
    return int(min(MAX_DURATION_S, max(MIN_DURATION_S, round(seconds))))


def gpu_task(duration: float | Callable[..., float]) -> Callable[[F], F]:
    """Decorate a function that runs models: `spaces.GPU(duration=...)` when `spaces` is
    importable, the function unchanged otherwise.

    `duration` is seconds, or a function of the decorated function's own arguments returning
    seconds (ZeroGPU calls it per request); either way it is clamped to what ZeroGPU accepts.
    """

    def decorate(function: F) -> F:
        if spaces is None:
            return function
        if callable(duration):

            @functools.wraps(duration)
            def sized(*args, **kwargs) -> int:
                return clamp_duration(duration(*args, **kwargs))

            return spaces.GPU(duration=sized)(function)
        return spaces.GPU(duration=clamp_duration(duration))(function)

    return decorate


# --------------------------------------------------------------------------- the trampoline
# ZeroGPU pickles a GPU function's arguments and results across a process boundary, so an object
# that holds models (a Predictor) cannot travel with the call: it is held here by a number, and the
# one GPU function looks it up. Without `spaces`, call_on_gpu is a plain method call.
_HELD: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def _held_gpu_seconds(key: int, method: str, *args: Any) -> float:
    return _HELD[key].gpu_seconds(method, *args)


@gpu_task(duration=_held_gpu_seconds)
def run_held(key: int, method: str, *args: Any) -> Any:
    """`method` of the held object on this call's GPU; its `gpu_seconds(method, *args)` sizes the call."""
    return getattr(_HELD[key], method)(*args)


def call_on_gpu(target: Any, method: str, *args: Any) -> Any:
    """`target.method(*args)`: directly, or inside `run_held` (a spaces.GPU function) when `spaces` is importable.

    `target` must have `gpu_seconds(method, *args)`, the most the call may hold a ZeroGPU GPU.
    """
    if spaces is None:
        return getattr(target, method)(*args)
    _HELD[id(target)] = target
    return run_held(id(target), method, *args)
