"""A studio training in its own child process at a low OS priority.

Why: in a thread of the app, TensorFlow's one thread pool served the training and the visitors'
predictions alike, and a prediction waited behind the training's batches (benchmarks/train_yield.py).
A child process with a high niceness (StudioLimits.train_niceness) leaves the kernel to give the
app's predictions the CPU first, with no pause after each batch.

The child is started with the "spawn" context (a process with TensorFlow loaded is never forked),
runs the same `train_job` as a thread would, and sends its Progress events back over a Queue; Stop
and the fair share of the host's time go the other way (an Event, a shared number). The parent
relays the events to the TrainingJob while watching that the child lives: a child that dies
(killed, out of memory) is a sentence on the page, never a wait. Every child is reaped: at the
job's end, on `TrainingJob.end` (the session ended), and on SIGTERM or exit (`end_all`).
The child holds its own TensorFlow: 1.0-1.3 GB peak RSS while it trains (docs/app.md, limits). As any
"spawn" child it imports the script that started the app, which keeps its start under `__main__`.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from har_demo.studio.limits import StudioLimits

SPAWN = multiprocessing.get_context("spawn")
POLL_S = 0.2  # how often the parent looks at Stop, the fair share and the child's liveness
LAST_WORDS_S = 2.0  # after the child is gone, how long its last events may still take to arrive
EXIT_S = 30.0  # after its last event, how long the child may take to exit before it is killed
_LIVE: set = set()  # this process's training children, for `end_all`
_LOCK = threading.Lock()


class ChildJob:
    """The child's stand-in for a TrainingJob: what `train_job` reads, with its events sent to the parent."""

    def __init__(self, class_set, options, events, stop_event) -> None:
        self.class_set = class_set
        self.options = options
        self.history: dict[str, dict[str, list[float]]] = {}
        self.stop_event = stop_event
        self.events = events

    def emit(self, progress) -> None:
        self.events.put(progress)


def run_in_child(job, out: Path, budget: float, fair_share: Callable[[], float], limits: StudioLimits) -> None:
    """Train `job` into `out` in a niced child process; relay its events to `job` until it ends, then reap it."""
    from har_demo.studio.train_job import Progress

    events = SPAWN.Queue()
    stop = SPAWN.Event()
    share = SPAWN.Value("d", fair_share(), lock=False)
    class_set = job.class_set
    process = SPAWN.Process(
        target=child_main,
        args=(
            class_set.folder,
            class_set.limits,
            class_set.settings,
            job.options,
            out,
            budget,
            share,
            events,
            stop,
            limits.train_niceness,
        ),
        name=f"studio-train-{job.session_id}",
        daemon=True,  # multiprocessing ends it if this process exits
    )
    with _LOCK:
        if job.ended:
            return
        process.start()
        _LIVE.add(process)
    job.process = process
    last = None  # the final event: given once the child is gone, so a waiting page never sees it still run
    try:
        while last is None:
            if job.stop_event.is_set():
                stop.set()
            if job.ended:
                last = Progress("error", "Stopped: the session ended.", stopped=True)
                break
            share.value = fair_share()
            try:
                event = events.get(timeout=POLL_S)
            except queue.Empty:
                if process.is_alive():
                    continue
                try:  # what it sent before it died is still on its way
                    event = events.get(timeout=LAST_WORDS_S)
                except queue.Empty:
                    last = Progress("error", died(process.exitcode, job.ended), stopped=True)
                    break
            if event.history:
                job.history = event.history
            if event.kind in ("done", "error"):
                last = event
            elif not (event.kind == "epoch" and job.stop_event.is_set()):  # sent before the child saw Stop
                job.emit(event)
    finally:
        reap(process, grace=0.0 if job.ended else EXIT_S)
        job.process = None
        events.close()
        events.cancel_join_thread()
    job.emit(last)


def died(exitcode: int | None, ended: bool = False) -> str:
    """The page's sentence for a child that ended without a last event."""
    if ended:
        return "Stopped: the session ended."
    how = f"was killed (signal {-exitcode})" if exitcode is not None and exitcode < 0 else f"exited ({exitcode})"
    return (
        f"Training stopped unexpectedly: its process {how} before it finished, perhaps out of memory. "
        "Models it had already served stay served; try again, perhaps with fewer clips or one model."
    )


def reap(process, grace: float = EXIT_S) -> None:
    """Wait up to `grace` s for `process` to exit, then SIGTERM it, then SIGKILL it; it is gone after this."""
    if process.pid is None:  # never started
        return
    process.join(grace)
    if process.is_alive():
        process.terminate()
        process.join(5.0)
    if process.is_alive():
        process.kill()
        process.join()
    with _LOCK:
        _LIVE.discard(process)


def end_all() -> None:
    """Kill every training child of this process (SIGTERM of the app, exit)."""
    with _LOCK:
        children = list(_LIVE)
    for process in children:
        reap(process, grace=0.0)


def live_children() -> list[int]:
    """The process ids of this process's training children that still run."""
    with _LOCK:
        return [p.pid for p in _LIVE if p.is_alive()]


# --------------------------------------------------------------------------- the child
def child_main(folder, set_limits, settings, options, out, budget, share, events, stop, niceness) -> None:
    """The child's whole life: lower its priority, bound its threads, train, send the events."""
    _exit_with_parent()
    lower_priority(niceness)
    limit_threads()
    from har_demo.studio.classset import ClassSet
    from har_demo.studio.train_job import Progress, train_job

    job = ChildJob(ClassSet(folder, set_limits, settings), options, events, stop)
    try:
        train_job(job, out, budget, lambda: share.value)
    except Exception as exc:  # the page gets a sentence, as from a thread
        events.put(Progress("error", f"Training failed: {type(exc).__name__}: {exc}"))


def lower_priority(niceness: int) -> None:
    """At least `niceness` for this process (and the threads it starts from now on)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.nice(niceness - current)


def cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def limit_threads() -> None:
    """TensorFlow's (or torch's) thread pools sized to this machine's cores, before the backend starts."""
    from importlib.util import find_spec

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    n = cores()
    if backend == "tensorflow" and find_spec("tensorflow") is not None:
        from har_demo.quiet_start import import_keras

        import_keras()  # TensorFlow's start-up lines stay out of the app's log, as in the app itself
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    elif backend == "torch" and find_spec("torch") is not None:
        import torch

        torch.set_num_threads(n)


def _exit_with_parent() -> None:
    """A child whose parent is gone (killed, crashed) exits at once rather than train for nobody."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
