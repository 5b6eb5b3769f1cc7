"""The processes of one multi-process run agree: who writes, what each feeds, when all stop.

`har-demo train --distribution data-parallel` started as N processes (JAX_COORDINATOR_ADDRESS,
JAX_NUM_PROCESSES, JAX_PROCESS_ID; see docs/distributed.md) trains one model. Keras' DataParallel
then assembles each global batch from every process's local part
(`jax.make_array_from_process_local_data`), so each process must feed only its own slice of
every batch: `local_rows`. Everything else here goes through the JAX coordination service's
key-value store and barriers (no device collectives), each wait bounded by a timeout:

- process 0, the chief, alone writes the frame cache (when the disk is shared), the checkpoints
  and the bundle; the others wait for it at a barrier (`chief_first`, `wait_for_chief`);
- on `--resume` the chief sends its progress and checkpoint files to the others (`follow_chief`),
  so every process continues from the same epoch whether or not they share a disk;
- the chief's early-stopping decision is sent to all after every epoch (`AgreeToStop`), so every
  process stops on the same epoch;
- a process that loses a peer (killed, crashed, network) ends with one sentence saying how to
  resume (`exit_after_lost_peer`) instead of a trace or a hang.

With one process every function here is a no-op, so the single-machine path is unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

WAIT_ENV = "HAR_DISTRIBUTED_WAIT"  # seconds a process waits for the others at a barrier
DEFAULT_WAIT_SECONDS = 3600  # decoding a large dataset's frame cache on the chief can take this long
EXIT_LOST_PEER = 3

T = TypeVar("T")
_counter = {"barrier": 0, "value": 0}


def process_count() -> int:
    """How many processes train this run (1 without jax.distributed)."""
    client = _client()
    if client is None:
        return 1
    import jax

    return int(jax.process_count())


def process_index() -> int:
    """This process's number, 0 for the chief."""
    if _client() is None:
        return 0
    import jax

    return int(jax.process_index())


def is_chief() -> bool:
    """Process 0 writes the cache, the checkpoints and the bundle; the others train in step."""
    return process_index() == 0


def local_rows(rows: np.ndarray) -> np.ndarray:
    """This process's part of a global batch's rows: the p-th of N equal, consecutive slices.

    Keras' DataParallel places process p's rows on p's devices in device order, so the N parts
    put together in process order are the one-process batch (the caller makes `rows` a multiple
    of the device count, which is a multiple of N).
    """
    count = process_count()
    if count == 1:
        return rows
    share = len(rows) // count
    index = process_index()
    return rows[index * share : (index + 1) * share]


def wait_seconds() -> float:
    return float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS))


def barrier(name: str) -> None:
    """Every process waits here until all arrive (at most `wait_seconds()`, then an error)."""
    client = _client()
    if client is None:
        return
    _counter["barrier"] += 1  # every process passes the same barriers in the same order
    client.wait_at_barrier(f"har-{name}-{_counter['barrier']}", int(wait_seconds() * 1000))


def broadcast(value: T) -> T:
    """The chief's `value` (JSON-able), the same in every process."""
    client = _client()
    if client is None:
        return value
    _counter["value"] += 1
    key = f"har-value-{_counter['value']}"
    if is_chief():
        client.key_value_set(key, json.dumps(value))
        return value
    return json.loads(client.blocking_key_value_get(key, int(wait_seconds() * 1000)))


class ProcessesDisagree(ValueError):
    """The processes of one run do not see the same thing (a dataset, a split); said in a sentence."""


def check_same(what: str, value) -> None:
    """Refuse, in every process, a run whose processes see different `value`s (JSON-able) for `what`.

    Each process computes the split from its own copy of the dataset; one host with a clip more or
    less would feed other clips than the chief thinks, silently. Every process posts a digest and
    reads all the others' (each wait bounded), so all of them stop, with the same sentence.
    """
    client = _client()
    if client is None:
        return
    _counter["value"] += 1
    key = f"har-check-{_counter['value']}"
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
    client.key_value_set(f"{key}-{process_index()}", digest)
    digests = [client.blocking_key_value_get(f"{key}-{i}", int(wait_seconds() * 1000)) for i in range(process_count())]
    differ = [i for i, d in enumerate(digests) if d != digests[0]]
    if differ:
        raise ProcessesDisagree(
            f"process(es) {', '.join(map(str, differ))} see(s) other {what} than process 0: every host needs the "
            "same dataset (the same clips at the same path) and the same options"
        )


def chief_first(work: Callable[[], T], folder: Path) -> T:
    """`work()` (e.g. building the frame cache in `folder`) run by the chief first when every process
    sees `folder` on a shared disk, then by the others (which find its result there); by all at once
    when each has its own disk."""
    if process_count() == 1:
        return work()
    shared = shares_folder(folder)
    if shared and not is_chief():
        barrier("chief-first")
    result = work()
    if shared and is_chief():
        barrier("chief-first")
    return result


def shares_folder(folder: Path) -> bool:
    """Whether this process sees the chief's `folder` (the chief leaves a file there for a moment)."""
    folder = Path(folder)
    name = broadcast(f".har-shared-{secrets.token_hex(8)}" if is_chief() else None)
    probe = folder / name
    if is_chief():
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("har-demo: a moment's test whether the processes share this disk\n")
    barrier("probe-written")
    shared = probe.is_file()
    barrier("probe-read")
    if is_chief():
        probe.unlink(missing_ok=True)
    return shared


def follow_chief(units: dict, scratch: Path, folder: Path) -> dict:
    """The chief's run progress (RunState units), the same in every process.

    The chief sends its `units` and the checkpoint files a resumed fit reads; another process
    writes those into its own `folder` (it never writes the chief's scratch), so a resumed run
    continues from the same epoch in every process, shared disk or not. With one process, and on
    the chief, `units` come back as they are.
    """
    if process_count() == 1:
        return units
    names = []
    if is_chief():  # the unfinished models' last state and best weights: what a resumed fit reads
        for key, unit in units.items():
            if not unit.get("done") and unit.get("last"):
                names += [Path(unit["last"]).name, f"{key}.best.weights.h5"]
        names = [n for n in names if (Path(scratch) / "checkpoints" / n).is_file()]
    units, names = broadcast([units, names])
    for name in names:  # one message each: a whole folder could pass gRPC's message limit
        data = (Path(scratch) / "checkpoints" / name).read_bytes() if is_chief() else None
        data = broadcast(base64.b64encode(data).decode() if is_chief() else None)
        if not is_chief():
            (Path(folder) / "checkpoints").mkdir(exist_ok=True)
            (Path(folder) / "checkpoints" / Path(name).name).write_bytes(base64.b64decode(data))
    return units


def wait_for_chief(what: str) -> None:
    """The others wait here until the chief has done `what` (e.g. written the bundle)."""
    barrier(what)


def agree_to_stop():
    """A Keras callback that gives every process the chief's early-stopping decision after each epoch.

    Keras' metrics are already global under DataParallel, so the decisions should agree anyway;
    this makes it certain (a process that went on alone would wait for the others forever).
    Put it after the callback that decides.
    """
    import keras

    class AgreeToStop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if process_count() > 1:
                self.model.stop_training = bool(broadcast(bool(self.model.stop_training)))

    return AgreeToStop()


def exit_after_lost_peer(error: BaseException, out: Path) -> None:
    """In a multi-process run, end this process with one sentence on what to do (a no-op with one).


    A process killed mid-run breaks the others' next collective (gloo: "connection closed by
    peer"); JAX would then abort at exit waiting for it. The chief's checkpoints of the last
    finished epoch are in OUT.partial, so the sentence says to start every process again with
    --resume. `os._exit` skips JAX's shutdown barrier, which would wait for the lost process.
    """
    if process_count() == 1:
        return
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
    print(
        f"error: process {process_index()} of {process_count()} stopped ({first_line}). The processes of a run "
        f"stop together (a lost process ends the others): the last finished epoch is kept in {out}.partial; "
        "start every process again with the same command and --resume.",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_LOST_PEER)


def _client():
    """The JAX coordination client when this process joined a multi-process run, else None."""
    if "jax" not in sys.modules:
        return None
    from jax._src import distributed

    return distributed.global_state.client
