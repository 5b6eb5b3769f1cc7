"""Training a studio set: one training at a time per process, progress per epoch, Stop, a bundle.

The training itself is `har-demo train`'s (training/run.py `train_bundle`: the report's models,
the tiny preset of training/presets.py, the same evaluation, report and bundle), fed with the
frames the class set decoded as its clips arrived. What this module adds is the queue (a CPU
trains one thing well, not two at once), per-epoch events for the page, Stop, the host's
training-time budget per session, and an early bundle: the cheaper model trains first and is
served ("ready") while the other one trains. Each training runs in a child process at a low OS
priority (train_process.py), so visitors' predictions in the app get the CPU first; where a host
allows no child processes (HAR_STUDIO_TRAIN_SUBPROCESS=false, ZeroGPU) it runs in a thread that
pauses after each batch while a prediction waits (`yield_to`).

Stop (or the budget running out) ends the current model's training after the batch in progress
and trains no further model; the models trained so far, as they are then, make the bundle. With
no validation split on a tiny set there is no "best epoch" to go back to: the last weights are
the ones trained longest.

The pretrained kinds (har_demo/pretrained.py) train on their own, never beside the report's two:
they read colour frames at the encoder's size, the report's two read the tiny defaults' frame
differences at 64 px and start from the shipped models, and a bundle has one clip setting. They are
offered only where their weights package is installed (`pretrained_unavailable`).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from har_demo.names import ALL_MODEL_NAMES, MODEL_NAMES, PRETRAINED_NAMES, display_name
from har_demo.studio.classset import ClassSet
from har_demo.studio.errors import LimitReached, TrainingRefused
from har_demo.studio.limits import StudioLimits
from har_demo.studio.train_job import (
    Progress,
    check_trainable,
    train_job,
)

MIN_SHARE_S = 60.0  # the least a training gets however many wait behind it
TYPICAL_RUN_S = 360.0  # a first guess at one training's length (4 classes x 10 clips, both models, 2 cores)


@dataclass(frozen=True)
class TrainOptions:
    """What a person chooses in the page; everything else is the preset's (training/presets.py)."""

    models: tuple[str, ...] = MODEL_NAMES
    epochs: int | None = None  # None: the preset's
    seed: int = 27
    warm_start: bool = True  # from the shipped models' weights where they fit (the preset's); False: random
    preset: str = "tiny"  # a class's own recordings: a few clips a class


def pretrained_unavailable() -> str | None:
    """Why the pretrained kinds cannot be trained here (their weights package or torch is missing), or None."""
    from importlib.util import find_spec

    from har_demo.encoder import MISSING_WEIGHTS, EncoderUnavailable, lite0_weights_path

    try:
        lite0_weights_path()
    except EncoderUnavailable as exc:
        return str(exc)
    return MISSING_WEIGHTS if find_spec("torch") is None else None


def check_models(models: tuple[str, ...]) -> None:
    """TrainingRefused, in a sentence, for a choice the studio cannot train."""
    unknown = [m for m in models if m not in ALL_MODEL_NAMES]
    if unknown or not models:
        offered = ", ".join(display_name(m) for m in ALL_MODEL_NAMES)
        if not models:
            raise TrainingRefused(f"Choose at least one model: {offered}.")
        raise TrainingRefused(f"There is no model called {', '.join(map(repr, unknown))}; choose from {offered}.")
    pretrained = [m for m in models if m in PRETRAINED_NAMES]
    if pretrained and len(pretrained) < len(models):
        raise TrainingRefused(
            "Train the pretrained models on their own, not with ConvLSTM or LRCN: they read 128-pixel photos, "
            "the report's two read 64-pixel frame differences and start from the shipped models."
        )
    if pretrained:
        missing = pretrained_unavailable()
        if missing:
            raise TrainingRefused(missing)


class TrainingJob:
    """A training asked for by one session: its events, and Stop."""

    def __init__(self, trainer: StudioTrainer, session_id: str, class_set: ClassSet, options: TrainOptions) -> None:
        self.trainer = trainer
        self.session_id = session_id
        self.class_set = class_set
        self.options = options
        self.stop_event = threading.Event()
        self.events_queue: queue.Queue[Progress] = queue.Queue()
        self.history: dict[str, dict[str, list[float]]] = {}
        self.finished = threading.Event()
        self.last: Progress | None = None
        self.process = None  # the child process training it (train_process.py), while it runs
        self.ended = False

    @property
    def pid(self) -> int | None:
        """The training's child process id while one runs; None in a thread or before it starts."""
        process = self.process
        return process.pid if process is not None else None

    def stop(self) -> None:
        """Stop after the batch in progress; the models trained so far make the bundle."""
        self.stop_event.set()
        self.trainer._wake()

    def end(self) -> None:
        """The session is gone: stop now, nothing is kept (its child process is killed, not waited for)."""
        self.ended = True
        self.stop()
        process = self.process
        if process is not None:  # its relay thread reaps it and says so
            process.kill()

    def emit(self, progress: Progress) -> None:
        self.last = progress
        self.events_queue.put(progress)

    def events(self, poll: float = 0.5) -> Iterator[Progress]:
        """Every event until the job is done (or failed); blocks between events."""
        while True:
            try:
                event = self.events_queue.get(timeout=poll)
            except queue.Empty:
                if self.finished.is_set() and self.events_queue.empty():
                    return
                continue
            yield event
            if event.kind in ("done", "error"):
                return

    def wait(self) -> Progress:
        """Block until the end; the last event (done or error)."""
        for _event in self.events():
            pass
        return self.last


class StudioTrainer:
    """The one trainer of a process; jobs take turns in the order they were asked for."""

    def __init__(self, limits: StudioLimits | None = None, yield_to: Callable[[], bool] | None = None) -> None:
        """`yield_to()`: True while visitors' predictions wait; the training then pauses after each batch
        (at most MAX_YIELD_S), so the page stays responsive while a group trains."""
        self.limits = limits or StudioLimits.from_env()
        self.yield_to = yield_to
        self._turn = threading.Condition()
        self._waiting: list[TrainingJob] = []
        self._running: TrainingJob | None = None
        self._used: dict[str, float] = {}
        self._counter = itertools.count(1)
        self._recent: list[float] = []  # how long the last trainings took, for the expected wait

    def seconds_left(self, session_id: str) -> float:
        return max(0.0, self.limits.max_train_seconds - self._used.get(session_id, 0.0))

    def busy(self, session_id: str) -> bool:
        with self._turn:
            jobs = self._waiting + ([self._running] if self._running else [])
            return any(j.session_id == session_id for j in jobs)

    def start(self, session_id: str, class_set: ClassSet, options: TrainOptions | None = None) -> TrainingJob:
        """Queue a training of `class_set`; refused at once if it cannot run."""
        options = options or TrainOptions()
        check_models(tuple(options.models))
        check_preset(options.preset)
        if options.epochs is not None and not 1 <= int(options.epochs) <= self.limits.max_epochs:
            raise LimitReached(f"Epochs must be between 1 and {self.limits.max_epochs}.")
        check_trainable(class_set)
        if self.seconds_left(session_id) <= 0:
            raise LimitReached(
                f"This session has used its {self.limits.max_train_seconds:g} s of training time on this server."
            )
        if self.busy(session_id):
            raise TrainingRefused("This session already has a training queued or running; wait for it or stop it.")
        job = TrainingJob(self, session_id, class_set, options)
        with self._turn:
            held = len(self._waiting) + (1 if self._running else 0)
            if held >= self.limits.max_queue:
                raise LimitReached(
                    f"The training queue is full ({held} groups training or waiting, the most this server takes); "
                    f"try again in about {self._expected_wait(held) / 60:.0f} minutes."
                )
            self._waiting.append(job)
        threading.Thread(target=self._run, args=(job,), name=f"studio-train-{session_id}", daemon=True).start()
        return job

    def _wake(self) -> None:
        with self._turn:
            self._turn.notify_all()

    def _wait_for_turn(self, job: TrainingJob) -> bool:
        """Block until `job` is first in line and nothing runs; False if it was stopped while waiting."""
        last_position = None
        with self._turn:
            while True:
                if job.stop_event.is_set():
                    self._waiting.remove(job)
                    self._turn.notify_all()
                    return False
                position = self._waiting.index(job) + (1 if self._running else 0)
                if position == 0:
                    self._waiting.remove(job)
                    self._running = job
                    return True
                if position != last_position:
                    wait = self._expected_wait(position)
                    job.emit(
                        Progress(
                            "queued",
                            f"Another training is running; yours is number {position} in line, "
                            f"about {max(1, round(wait / 60))} minute{'s' if round(wait / 60) > 1 else ''} to wait.",
                            position,
                            seconds_left=wait,
                        )
                    )
                    last_position = position
                self._turn.wait(timeout=1.0)

    def fair_share_s(self) -> float:
        """The most one training may run now: the host's time, split between it and those waiting."""
        with self._turn:
            waiting = len(self._waiting)
        return max(MIN_SHARE_S, self.limits.max_train_seconds / (1 + waiting))

    def _expected_wait(self, position: int) -> float:
        """Seconds until the job at `position` (1 = next) starts: the running one's rest, then each before it."""
        typical = sum(self._recent[-5:]) / len(self._recent[-5:]) if self._recent else TYPICAL_RUN_S
        typical = min(typical, self.limits.max_train_seconds)
        running = self._running.last if self._running is not None else None
        rest = running.seconds_left if running is not None and running.seconds_left is not None else typical / 2
        return rest + typical * max(0, position - 1)

    def _run(self, job: TrainingJob) -> None:
        try:
            if not self._wait_for_turn(job):
                job.emit(Progress("error", "Stopped before it started.", stopped=True))
                return
            started = time.perf_counter()
            try:
                self._train(job)
            finally:
                with self._turn:
                    took = time.perf_counter() - started
                    self._used[job.session_id] = self._used.get(job.session_id, 0.0) + took
                    self._recent = [*self._recent[-9:], took]
                    self._running = None
                    self._turn.notify_all()
        except Exception as exc:  # the page gets a sentence; the server keeps serving
            job.emit(Progress("error", f"Training failed: {type(exc).__name__}: {exc}"))
        finally:
            job.finished.set()

    def _train(self, job: TrainingJob) -> None:
        """In a niced child process (train_process.py), or in this thread where the host says so."""
        out = job.class_set.folder / "bundles" / f"run-{next(self._counter):03d}-{int(time.time())}"
        budget = self.seconds_left(job.session_id)
        if in_subprocess(self.limits):
            from har_demo.studio.train_process import run_in_child

            run_in_child(job, out, budget, self.fair_share_s, self.limits)
        else:
            train_job(job, out, budget, self.fair_share_s, self.yield_to)


def in_subprocess(limits: StudioLimits) -> bool:
    """Whether trainings run in a child process: the host's setting, never on ZeroGPU (its GPU is this process's)."""
    from har_demo.gpu import on_zero_gpu

    return limits.train_subprocess and not on_zero_gpu()


def check_preset(name: str) -> None:
    """Refuse a preset the training code does not have, before the training is queued."""
    from har_demo.training.presets import PRESETS

    if name not in PRESETS:
        raise TrainingRefused(f"There is no training preset {name!r}; the presets are {', '.join(PRESETS)}.")
