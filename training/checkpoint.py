"""A run's progress in its scratch folder: resumable per-epoch checkpoints, early stopping and `--resume` checks."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

from har_demo.training.config import TrainConfig
from har_demo.training.output import (
    OutputRefused,
    is_scratch,
    read_marker,
    write_marker,
)


class RunState:
    """The run's progress, kept in the scratch folder's marker after every epoch (atomically).

    units[key] is either {"done": True, "result": {...}, "entry": {...}} for a finished model, or
    the last epoch's state of the one being trained ({"epoch", "best", "best_epoch", "wait",
    "history", "last", "train_seconds"}), which `--resume` continues from.
    """

    def __init__(self, folder: Path, data: dict | None = None) -> None:
        self.folder = Path(folder)
        self.data = data if data is not None else read_marker(self.folder)
        self.data.setdefault("units", {})
        self.where = "preparing the run"  # for the one line printed on Ctrl-C

    @property
    def units(self) -> dict:
        return self.data["units"]

    def update(self, key: str, unit: dict) -> None:
        self.units[key] = unit
        self.save()

    def save(self) -> None:
        write_marker(self.folder, self.data)


def checkpoint_callback(state: RunState, key: str, patience: int | None):
    """Best weights, last state and early stopping in one callback, all of it resumable.

    The same rule as keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True):
    stop once val_loss has not improved for `patience` epochs, then restore the best epoch's weights.
    Every file is written under a new name first, so an interrupt never leaves a half-written one
    where the state points.
    """
    import keras

    folder = state.folder / "checkpoints"
    folder.mkdir(exist_ok=True)
    best_path = folder / f"{key}.best.weights.h5"

    class Checkpoint(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            unit = state.units.get(key, {})
            self.history = {k: list(v) for k, v in unit.get("history", {}).items()}
            self.best = unit.get("best", math.inf)
            self.best_epoch = unit.get("best_epoch", 0)
            self.wait = unit.get("wait", 0)
            self.seconds = unit.get("train_seconds", 0.0)
            self.started = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            state.where = f"{key} epoch {epoch + 1}"

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            for name, value in logs.items():
                self.history.setdefault(name, []).append(round(float(value), 5))
            current = logs.get("val_loss")
            if current is not None:
                self.wait += 1
                if current < self.best:
                    self.best, self.best_epoch, self.wait = float(current), epoch + 1, 0
                    temporary = folder / f"{key}.best.tmp.weights.h5"
                    self.model.save_weights(temporary)
                    os.replace(temporary, best_path)
            stop = patience is not None and current is not None and self.wait >= patience and epoch > 0
            previous = state.units.get(key, {}).get("last")
            last = f"checkpoints/{key}.epoch{epoch + 1}.keras"
            self.model.save(state.folder / last)  # with the optimizer's state, to continue from
            state.update(
                key,
                {
                    "epoch": epoch + 1,
                    "best": self.best if current is not None else None,
                    "best_epoch": self.best_epoch,
                    "wait": self.wait,
                    "history": self.history,
                    "last": last,
                    "train_seconds": round(self.seconds + time.perf_counter() - self.started, 1),
                    "stopped": stop,
                    "warm_start": state.units.get(key, {}).get("warm_start"),  # where its weights began
                },
            )
            if previous and previous != last:
                (state.folder / previous).unlink(missing_ok=True)
            if stop:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if patience is not None and best_path.is_file():
                self.model.load_weights(best_path)

    return Checkpoint()


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the message is the one line saying what was kept and how to go on."""


def plain(value):
    """As it reads back from JSON (tuples become lists), so a stored run compares equal."""
    return json.loads(json.dumps(value))


def differences(stored: dict, current: dict) -> list[str]:
    keys = sorted(set(stored) | set(current))
    return [f"{k} {stored.get(k)!r} (now {current.get(k)!r})" for k in keys if stored.get(k) != current.get(k)]


def with_new_defaults(run: dict | None) -> dict | None:
    """A stored run's info with the defaults of TrainConfig fields added since it was written.

    A run interrupted under an older version resumes under this one when it asked for nothing new.
    """
    if run is None or not isinstance(run.get("config"), dict):
        return run
    return {**run, "config": {**plain(asdict(TrainConfig())), **run["config"]}}


def check_scratch(scratch: Path, resume: bool) -> None:
    """Refuse to start over a folder in the way, or over an interrupted run without --resume."""
    if not scratch.exists():
        return
    if not is_scratch(scratch):
        raise OutputRefused(
            f"{scratch} is in the way (the bundle is built there before it replaces --out) and was not made by "
            "har-demo; nothing was changed: move it or name another --out."
        )
    if not resume:
        units = read_marker(scratch).get("units", {})
        where = ", ".join(
            f"{k} done" if u.get("done") else f"{k} after epoch {u.get('epoch', 0)}" for k, u in units.items()
        )
        raise OutputRefused(
            f"{scratch} holds the checkpoints of an interrupted run ({where or 'no epoch finished'}); "
            "rerun with --resume to continue it, or delete that folder to start over."
        )
