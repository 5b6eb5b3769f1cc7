"""One studio training from start to bundle: the body a thread or a child process runs (train_process.py).

It is `har-demo train`'s run (training/run.py `train_bundle`, the preset the person chose), fed with
the frames the class set decoded as its clips arrived, with a Keras callback that turns epochs into
Progress events for the page and honours Stop, the time budget and the fair share. It imports
nothing of the queue (trainer.py), so the child process can run it alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from har_demo.names import PRETRAINED_NAMES, display_name
from har_demo.studio.classset import ClassSet
from har_demo.studio.errors import TrainingRefused

# A model's seconds per clip and epoch relative to LRCN's on a CPU (benchmarks/studio_bench.py: 30
# epochs of the same clips took LRCN 60 s and ConvLSTM 288 s): the order the models train in, and the
# guess at a later model's time.
# The pretrained kinds train only their head on embeddings computed once per clip (docs/pretrained.md).
RELATIVE_COST = {"lrcn": 1.0, "convlstm": 4.8, "pretrained": 0.3, "pretrained_attention": 0.3}
MAX_YIELD_S = 2.0  # the longest a training pauses after a batch for visitors' predictions
MIN_CLASSES = 2
MIN_CLIPS_PER_CLASS = 2  # one to train on and one to test


@dataclass
class Progress:
    """One event of a training job, for the page to draw."""

    kind: str  # queued | started | epoch | ready (the models so far, served while the rest train) | done | error
    message: str = ""
    position: int = 0  # place in the queue while queued (1 = next)
    model: str | None = None
    epoch: int = 0
    epochs: int = 0
    history: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    seconds: float = 0.0
    seconds_left: float | None = None
    bundle: Path | None = None
    report: dict = field(default_factory=dict)
    stopped: bool = False


def check_trainable(class_set: ClassSet) -> dict[str, int]:
    """The clip counts, or TrainingRefused saying what is missing."""
    counts = {c: n for c, n in class_set.counts().items() if n > 0}
    if len(counts) < MIN_CLASSES:
        raise TrainingRefused(f"Add clips to at least {MIN_CLASSES} classes before training.")
    short = [c for c, n in counts.items() if n < MIN_CLIPS_PER_CLASS]
    if short:
        raise TrainingRefused(
            f"{', '.join(short)} need at least {MIN_CLIPS_PER_CLASS} clips each (one to train on, one to test)."
        )
    return counts


def train_job(job, out: Path, budget: float, fair_share: Callable[[], float], yield_to=None) -> None:
    """Train `job` (a TrainingJob, or the child's stand-in: class_set, options, history, emit, stop_event) into `out`."""
    from har_demo.training.config import TrainConfig
    from har_demo.training.presets import PRESETS, preset_record
    from har_demo.training.run import train_bundle
    from har_demo.training.warm_start import SHIPPED_REF

    class_set = job.class_set
    counts = check_trainable(class_set)  # again: clips may have been deleted while it waited
    models = quickest_first(job.options.models)
    cache = class_set.frame_cache(clip_settings(class_set.settings, models))
    overrides = PRESETS[job.options.preset].fields_for(cache.settings, models)
    if job.options.epochs is not None:
        overrides["epochs"] = int(job.options.epochs)
    if not job.options.warm_start:
        overrides.pop("init_from", None)
    config = TrainConfig(models=models, seed=job.options.seed, **overrides)
    config.extra = preset_record(job.options.preset, overrides)
    callback = _progress_callback(
        job, config, budget, fair_share, yield_to, cache=cache, held_out=held_out_clips(cache, config)
    )
    job.emit(
        Progress(
            "started",
            f"Training {' and '.join(display_name(m) for m in config.models)} on {sum(counts.values())} clips of {len(counts)} classes, "
            f"{config.epochs} epochs"
            + (", starting from the shipped models' weights." if config.init_from == SHIPPED_REF else "."),
            epochs=config.epochs,
        )
    )
    started = time.perf_counter()

    def emit_bundle(kind: str, bundle: Path, say, **extra) -> None:
        """A `ready` or `done` event: the bundle, its report, the curves; `say(report, seconds)` words it."""
        report = json.loads((bundle / "report.json").read_text())
        seconds = time.perf_counter() - started
        job.emit(
            Progress(
                kind,
                say(report, seconds),
                history=job.history,
                seconds=seconds,
                bundle=bundle,
                report=report,
                **extra,
            )
        )

    def first_models_ready(bundle: Path) -> None:
        def say(report: dict, seconds: float) -> str:
            return f"{' and '.join(display_name(m) for m in report['models'])} trained in {seconds:.0f} s."

        emit_bundle("ready", bundle, say)

    train_bundle(  # its text lines are not shown: the page draws the events instead
        class_set.data,
        out,
        config,
        settings=cache.settings,
        cache=cache,
        callbacks=(callback,),
        stop=job.stop_event,
        log=_quiet,
        on_first_models=first_models_ready,
    )
    stopped = job.stop_event.is_set() or callback.out_of_time
    why = " (stopped)" if job.stop_event.is_set() else " (training time used up)" if callback.out_of_time else ""
    emit_bundle("done", out, lambda _report, seconds: f"Trained in {seconds:.0f} s{why}.", stopped=stopped)


def clip_settings(settings, models):
    """The clips' settings for `models`: the class set's own, or the encoder's frame size for the pretrained kinds."""
    if not set(models) <= set(PRETRAINED_NAMES):
        return settings
    from har_demo.pretrained import DEFAULT_SIZE

    return settings.with_(height=DEFAULT_SIZE, width=DEFAULT_SIZE)


def quickest_first(models) -> tuple[str, ...]:
    """The chosen models in the order they train, cheapest first: the page serves LRCN while ConvLSTM trains."""
    return tuple(sorted(models, key=lambda m: RELATIVE_COST.get(m, 1.0)))


def held_out_clips(cache, config):
    """The rows train_bundle will test on (its tiny split), for the held-out curve; None for other splits."""
    from har_demo.training.dataset import tiny_splits
    from har_demo.training.tiny import TINY_SPLIT

    if config.split != TINY_SPLIT:
        return None
    labels = [cache.classes[i] for i in cache.labels]
    return np.sort(tiny_splits(cache.groups, labels, cache.paths, config.test_fraction, config.seed).test)


def _quiet(*_args, **_kwargs) -> None:
    """train_bundle's log for the page: its lines are dropped (the events carry what matters)."""


def _progress_callback(
    job,
    config,
    budget_seconds: float,
    fair_share=lambda: float("inf"),
    yield_to=None,
    cache=None,
    held_out=None,
):
    """A Keras callback: an event per epoch, and Stop / the time budget checked after every batch.

    The budget is the session's time left, and never more than `fair_share()` (the host's training
    time split with the groups waiting), so N groups in line do not wait N x the host's budget.
    With `held_out` rows of `cache`, each epoch also measures accuracy on those test clips (people
    the model does not train on): the curve beside the training accuracy that shows the gap open.
    It only looks; nothing is chosen by it.
    """
    import keras

    from har_demo.clip import to_model_input

    models = list(config.models)

    class StudioProgress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.started = time.perf_counter()
            self.model_started = self.started
            self.out_of_time = False
            self.yielded = 0.0  # seconds paused for visitors' predictions: not counted against the budget

        @property
        def key(self) -> str:
            """The model's key: a pretrained model trains as its head ("pretrained_head")."""
            name = self.model.name
            return name.removesuffix("_head") if name.removesuffix("_head") in models else name

        def on_train_begin(self, logs=None) -> None:
            self.model_started = time.perf_counter()
            job.history[self.key] = {"loss": [], "accuracy": []}
            if held_out is not None and len(held_out):
                job.history[self.key]["held_out_accuracy"] = []

        def held_out_accuracy(self) -> float:
            if self.key in PRETRAINED_NAMES:  # the head reads the frame embeddings train_head cached
                from har_demo.training.embeddings import embeddings_path

                x = np.asarray(np.load(embeddings_path(cache), mmap_mode="r")[held_out])
            else:  # the frames are made now: train_bundle sets the cache's motion setting before training
                x = to_model_input(cache.frames[held_out], cache.settings)
            probs = np.concatenate(
                [np.asarray(self.model.predict_on_batch(x[i : i + 16])) for i in range(0, len(x), 16)]
            )
            return float((probs.argmax(axis=1) == cache.labels[held_out]).mean())

        def on_train_batch_end(self, batch, logs=None) -> None:
            if yield_to is not None:
                paused = time.perf_counter()
                while yield_to() and time.perf_counter() - paused < MAX_YIELD_S and not job.stop_event.is_set():
                    time.sleep(0.005)
                self.yielded += time.perf_counter() - paused
            if time.perf_counter() - self.started - self.yielded > min(budget_seconds, fair_share()):
                self.out_of_time = True
                job.stop_event.set()
            if job.stop_event.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None) -> None:
            name = self.key
            logs = logs or {}
            curves = job.history[name]
            for key in ("loss", "accuracy"):
                curves[key].append(round(float(logs.get(key, float("nan"))), 4))
            if "held_out_accuracy" in curves:
                curves["held_out_accuracy"].append(round(self.held_out_accuracy(), 4))
            if job.stop_event.is_set():  # after Stop the page says "Stopping", then "Stopped": no epoch line between
                return
            done = epoch + 1
            per_epoch = (time.perf_counter() - self.model_started) / done
            later = models[models.index(name) + 1 :] if name in models else []
            cost = RELATIVE_COST.get(name, 1.0)
            later_epochs = sum(RELATIVE_COST.get(m, 1.0) / cost for m in later) * config.epochs
            left = per_epoch * (config.epochs - done + later_epochs)
            job.emit(
                Progress(
                    "epoch",
                    f"{display_name(name)}: epoch {done}/{config.epochs}, loss {curves['loss'][-1]:.3f}, "
                    f"accuracy {curves['accuracy'][-1]:.0%}"
                    + (f", held-out {curves['held_out_accuracy'][-1]:.0%}" if curves.get("held_out_accuracy") else ""),
                    model=name,
                    epoch=done,
                    epochs=config.epochs,
                    history={k: {m: list(v) for m, v in c.items()} for k, c in job.history.items()},
                    seconds=time.perf_counter() - self.started,
                    seconds_left=left,
                )
            )

    return StudioProgress()
