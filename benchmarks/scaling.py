"""Data-parallel scaling across processes: the same training run as 1 and as N processes.

    python -m benchmarks.scaling [DATA] [--processes 2] [--epochs 4] [--batch-size 8]

Each run is a real `har-demo train DATA --distribution data-parallel` (training/launch.py: JAX
coordinator on a loopback port, one CPU device per process, each process pinned to a core of its
own with taskset), same data, global batch and seed. The figure is steady-state training
throughput: training clips per epoch / the mean time of the epochs after the first (the first
compiles; an epoch's time includes its validation pass), read from the run state the chief
writes after every epoch; the ratio is N processes against 1, measured in the same run. Without DATA a
synthetic set is written (16 clips per class, 4 classes). docs/distributed.md holds a run.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from pathlib import Path

from har_demo.training.launch import start_processes, wait_all
from har_demo.training.output import SCRATCH_MARKER, read_marker, scratch_path


def train(data: Path, work: Path, processes: int, args: argparse.Namespace) -> dict:
    """One run; the seconds each epoch took, read from the chief's run state as it is written."""
    out = work / f"bundle-{processes}"
    argv = [
        "train", str(data), "--models", args.model, "--epochs", str(args.epochs), "--tiny", "off",
        "--batch-size", str(args.batch_size), "--patience", str(args.epochs), "--cache-dir", str(work / "cache"),
        "--distribution", "data-parallel" if processes > 1 else "none", "--out", str(out), "--workers", "1",
    ]  # fmt: skip
    marker = scratch_path(out) / SCRATCH_MARKER
    started = time.perf_counter()
    running = start_processes(argv, processes, work / f"logs-{processes}", cores=list(range(processes)))
    seconds_after = {}  # epoch -> training seconds so far (the run state's train_seconds)
    while any(p.poll() is None for p in running) and time.perf_counter() - started < args.timeout:
        unit = (read_marker(marker.parent).get("units") or {}).get(args.model, {})
        if unit.get("epoch"):
            seconds_after[int(unit["epoch"])] = float(unit["train_seconds"])
        time.sleep(0.1)
    codes = wait_all(running, 1)
    wall = time.perf_counter() - started
    log = (work / f"logs-{processes}" / "process-0.log").read_text()
    if codes != [0] * processes:
        raise SystemExit(f"{processes} process(es) ended with {codes}; the chief's log ends:\n{log[-2000:]}")
    clips = int(re.search(r"Training \S+: (\d+) train", log).group(1))
    clips -= clips % processes  # make_batches cuts the last batch to a multiple of the devices
    epochs = sorted(seconds_after)
    if len(epochs) < 2:
        raise SystemExit("fewer than two epochs were seen; use --epochs 3 or more")
    epoch_s = (seconds_after[epochs[-1]] - seconds_after[epochs[0]]) / (epochs[-1] - epochs[0])
    return {"processes": processes, "epoch_s": epoch_s, "clips_per_s": clips / epoch_s, "wall_s": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="?", help="a UCF50-style folder (default: a synthetic one)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8, help="the global batch (split over the processes)")
    parser.add_argument("--model", default="lrcn", choices=("lrcn", "convlstm"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds for each run at most")
    args = parser.parse_args(argv)
    if args.batch_size % args.processes:
        parser.error("--batch-size must be a multiple of --processes")
    if (os.cpu_count() or 1) < args.processes:
        print(f"note: {os.cpu_count()} core(s) for {args.processes} processes: they share cores")
    with tempfile.TemporaryDirectory(prefix="har-scaling-") as folder:
        work = Path(folder)
        data = args.data
        if data is None:
            from har_demo.training.synth import write_synthetic_dataset

            data = work / "SynthUCF"
            write_synthetic_dataset(data, 16, groups_per_class=4, workers=1, progress=False)
        # the one-process run first also builds the frame cache that the N-process run reuses
        rows = [train(data, work, 1, args), train(data, work, args.processes, args)]
    base = rows[0]["clips_per_s"]
    print(f"\n{args.model}, global batch {args.batch_size}, {args.epochs} epochs, one CPU core per process")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| processes | epoch (s) | training clips/s | ratio | whole run (s) |")
    print("|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['processes']} | {row['epoch_s']:.2f} | {row['clips_per_s']:.1f} | "
            f"{row['clips_per_s'] / base:.2f}x | {row['wall_s']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
