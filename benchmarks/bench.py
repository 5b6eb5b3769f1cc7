"""`har-demo bench clip|infer|build|train|memory|all|gpu|backends|startup`: speed and memory, against baselines.

Each benchmark runs a baseline and the candidate on the same inputs in the same run, interleaved
(the order alternates each round), repeats, and prints medians AND ratios, so its figures hold on
a noisy shared machine where absolute times swing 2x from one minute to the next.

    clip    video file -> both models' probabilities, per clip: the tutorial's pipeline (seek to
            each of 20 frames, resize, /255 as float64, model.predict per model) against
            read_clip + Predictor; plus the decode floor (one plain sequential decode)
    infer   batched inference, clips/s at batch 1..256: the loaded Keras model's predict_on_batch
            against the Predictor's rebuilt inference model
    build   dataset build, clips/s into the cache: the tutorial's sequential create_dataset
            (seeking, float64 in a list) against training.dataset.build_cache
    train   training clips/s and peak RSS per model: the tutorial's in-RAM float64 arrays at batch
            4 against the memory-mapped uint8 cache at batch 4 and larger batches
    memory  a 6,676-clip (full UCF50 size) cache on disk, trained on through the memory map,
            with the peak RSS sampled

    gpu       the models on this process's Keras backend (GPU if it sees one): clips/s at batch
              1, 32, 256 and end to end (benchmarks/backends_bench.py)
    backends  start-up and latency per installed backend, interleaved, and whole-process targets
              (benchmarks/backends_bench.py); it decided the serving default (har_demo.backend)
    startup   what a student and a waking Space wait for (benchmarks/startup_bench.py)

Results are printed as Markdown tables (docs/performance.md holds a run); --json saves them.
The load test of the app is separate: benchmarks/load_test.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import backends_bench, startup_bench
from benchmarks.common import (
    REPO,
    SHARED_DATA,
    UCF50_CLIPS,
    RssSampler,
    bench_bundle,
    decode_floor,
    describe_machine,
    gb,
    keras_info,
    machine,
    median,
    memory_status,
    ms,
    quiet,
    ratio,
    real_clip_paths,
    synthetic_clip_paths,
    synthetic_folder,
    table,
    tutorial_create_dataset,
    tutorial_predict,
)
from har_demo.names import REPORT_CLASSES

WHAT = ("clip", "infer", "build", "train", "memory")
BACKEND_BENCHES = ("gpu", "backends", "startup")  # benchmarks/backends_bench.py; not part of "all"


def bench_clip(args, work: Path) -> dict:
    """Clip -> both models' probabilities, per clip: tutorial vs ours vs the decode floor."""
    import cv2

    from har_demo.inference import Predictor

    clips = [Path(p) for p in args.clips] if args.clips else real_clip_paths(args.real_clips)
    clips += synthetic_clip_paths(work / "synthetic", args.synthetic)
    if not clips:
        raise SystemExit("no clips: pass --clips, or put real clips in --real-clips, or --synthetic N")
    bundle = bench_bundle(args.bundle, work, args.fresh_models)
    predictor = Predictor(bundle)
    models = bundle.models
    describe_machine(keras_info(predictor))
    print(f"Models: {', '.join(models)} from {bundle.origin or bundle.path}; {args.repeats} rounds", flush=True)

    # Warm every path once, so no first-call tracing is timed.
    tutorial_predict(clips[0], models)
    predictor.predict_path(clips[0])
    decode_floor(clips[0])

    runs: dict[tuple[str, str], list[dict]] = {}
    agreement: dict[str, float] = {}
    kinds = ["tutorial", "ours", "floor"]
    for round_ in range(args.repeats):
        order = kinds[round_ % 3 :] + kinds[: round_ % 3]  # rotate who goes first
        for clip in clips:
            for kind in order:
                started = time.perf_counter()
                if kind == "tutorial":
                    probs_t, seconds = tutorial_predict(clip, models)
                elif kind == "ours":
                    prediction = predictor.predict_path(clip)
                    seconds = dict(prediction.seconds)
                else:
                    decode_floor(clip)
                    seconds = {}
                seconds["total"] = time.perf_counter() - started
                runs.setdefault((kind, clip.name), []).append(seconds)
                if kind == "ours":
                    probs_o = prediction.probabilities
            if round_ == 0:
                agreement[clip.name] = max(float(np.max(np.abs(probs_t[m] - probs_o[m]))) for m in models)

    def med(kind, clip, key):
        return median([r[key] for r in runs[(kind, clip)] if key in r])

    model_names = list(models)
    per_clip, rows = [], []
    for clip in clips:
        reader = cv2.VideoCapture(str(clip))
        reported = int(reader.get(cv2.CAP_PROP_FRAME_COUNT))
        reader.release()
        t_total, o_total, floor = (
            med("tutorial", clip.name, "total"),
            med("ours", clip.name, "total"),
            med("floor", clip.name, "total"),
        )
        model_time = sum(med("ours", clip.name, m) for m in model_names)
        row = {
            "clip": clip.name,
            "frames": reported,
            "tutorial": t_total,
            "ours": o_total,
            "speedup": t_total / o_total,
            "floor": floor,
            "models": model_time,
            "vs_floor": o_total / (floor + model_time),
            "max_prob_diff": agreement[clip.name],
            "tutorial_parts": {k: med("tutorial", clip.name, k) for k in ["decode", *model_names]},
            "ours_parts": {k: med("ours", clip.name, k) for k in ["decode", *model_names]},
        }
        per_clip.append(row)
        rows.append(
            [
                clip.name,
                reported,
                ms(t_total),
                ms(o_total),
                ratio(row["speedup"]),
                ms(floor),
                ms(model_time),
                ratio(row["vs_floor"]),
                f"{row['max_prob_diff']:.3f}",
            ]
        )
    summary = {
        key: median([r[key] for r in per_clip])
        for key in ("tutorial", "ours", "speedup", "floor", "models", "vs_floor")
    }
    rows.append(
        [
            "**median over clips**",
            "",
            ms(summary["tutorial"]),
            ms(summary["ours"]),
            f"**{ratio(summary['speedup'])}**",
            ms(summary["floor"]),
            ms(summary["models"]),
            f"**{ratio(summary['vs_floor'])}**",
            "",
        ]
    )
    text = table(
        "Clip to both models' probabilities (ms per clip, medians)",
        [
            "clip",
            "frames",
            "tutorial",
            "ours",
            "speedup",
            "decode floor",
            "our models",
            "ours / (floor + models)",
            "max |Δp|",
        ],
        rows,
        "tutorial: seek to each of 20 frames (CAP_PROP_POS_FRAMES), resize, /255 as float64, then "
        "`model.predict` on each model. ours: `Predictor.predict_path` (one sequential decode keeping "
        "the sampled frames, uint8, the rebuilt inference models). decode floor: one plain sequential "
        "`cap.read()` of every frame. max |Δp|: largest probability difference between the two pipelines.",
    )
    parts = ["decode", *model_names]
    part_rows = []
    for part in parts:
        t = median([r["tutorial_parts"][part] for r in per_clip])
        o = median([r["ours_parts"][part] for r in per_clip])
        part_rows.append([part, ms(t), ms(o), ratio(t / o)])
    text += table("Where the time goes (ms, median over clips)", ["stage", "tutorial", "ours", "speedup"], part_rows)

    # Models alone on one decoded clip: the per-call cost.
    x = np.random.default_rng(0).random((1, 20, 64, 64, 3), dtype=np.float32)
    ways = {
        "tutorial: `model.predict`": {m: (lambda m=m: models[m].predict(x, verbose=0)) for m in models},
        "loaded model, `predict_on_batch`": {m: (lambda m=m: models[m].predict_on_batch(x)) for m in models},
        "ours: rebuilt model, `predict_on_batch`": {
            m: (lambda m=m: predictor.runners[m].predict_on_batch(x)) for m in models
        },
    }
    times: dict[tuple[str, str], list[float]] = {}
    for way in ways.values():
        for call in way.values():
            call()
    for _ in range(args.repeats * 10):
        for way, calls in ways.items():
            for m, call in calls.items():
                started = time.perf_counter()
                call()
                times.setdefault((way, m), []).append(time.perf_counter() - started)
    baseline = sum(median(times[(next(iter(ways)), m)]) for m in models)
    model_rows, per_call = [], {}
    for way in ways:
        each = {m: median(times[(way, m)]) for m in models}
        both = sum(each.values())
        per_call[way] = {**each, "both": both}
        model_rows.append([way, *(ms(each[m]) for m in models), ms(both), ratio(baseline / both)])
    text += table(
        "Both models on one already-decoded clip (ms per call, batch 1, medians)",
        ["call", *models, "both", "speedup vs tutorial"],
        model_rows,
    )
    return {"clips": per_clip, "summary": summary, "per_call": per_call, "markdown": text}


# --------------------------------------------------------------------------- infer
def bench_infer(args, work: Path) -> dict:
    """Batched inference throughput: loaded Keras model vs the rebuilt inference model."""
    from har_demo.clip import to_model_input
    from har_demo.inference import Predictor

    bundle = bench_bundle(args.bundle, work, args.fresh_models)
    predictor = Predictor(bundle)
    describe_machine(keras_info(predictor))
    s = predictor.settings
    rng = np.random.default_rng(0)
    rows, results = [], []
    for batch in args.batch_sizes:
        x = to_model_input(rng.integers(0, 256, (batch, s.frames, s.height, s.width, 3), dtype=np.uint8), s)
        for name, model in bundle.models.items():
            calls = {"loaded": model.predict_on_batch, "ours": predictor.runners[name].predict_on_batch}
            for call in calls.values():
                call(x)  # trace this batch shape
            times: dict[str, list[float]] = {"loaded": [], "ours": []}
            rounds = args.repeats * (4 if batch < 16 else 1)  # small batches are quick and noisier
            for r in range(rounds):
                for kind in ("loaded", "ours") if r % 2 == 0 else ("ours", "loaded"):
                    started = time.perf_counter()
                    calls[kind](x)
                    times[kind].append(time.perf_counter() - started)
            loaded, ours = median(times["loaded"]), median(times["ours"])
            results.append(
                {
                    "model": name,
                    "batch": batch,
                    "loaded_s": loaded,
                    "ours_s": ours,
                    "loaded_cps": batch / loaded,
                    "ours_cps": batch / ours,
                }
            )
            rows.append(
                [name, batch, f"{batch / loaded:.1f}", f"{batch / ours:.1f}", ms(ours / batch), ratio(loaded / ours)]
            )
            print(f"  {name} batch {batch}: {batch / ours:.1f} clips/s", flush=True)
        del x
    text = table(
        "Batched inference (clips per second, medians)",
        ["model", "batch", "loaded model", "ours", "ours ms/clip", "speedup"],
        rows,
        "loaded model: the bundle's Keras model, `predict_on_batch`. ours: `Predictor.runners` "
        "(the rebuilt inference model, same weights). Input already decoded and scaled to float32.",
    )
    best = {}
    for name in bundle.models:
        top = max((r for r in results if r["model"] == name), key=lambda r: r["ours_cps"])
        best[name] = top
    return {"rows": results, "best": best, "markdown": text}


# --------------------------------------------------------------------------- build
def bench_build(args, work: Path) -> dict:
    """Dataset build, clips/s: the tutorial's sequential create_dataset vs build_cache."""
    from har_demo.training.dataset import build_cache

    root = Path(args.data) if args.data else synthetic_folder(work / f"synthetic-{args.build_clips}", args.build_clips)
    classes = [c for c in REPORT_CLASSES if (root / c).is_dir()]
    clips = sum(len(list((root / c).iterdir())) for c in classes)
    describe_machine()
    print(f"Dataset: {clips} clips in {root}; {args.repeats} rounds", flush=True)
    workers = args.workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    kinds = {
        "tutorial create_dataset (sequential, seeking, float64)": None,
        "build_cache, 1 worker (sequential decode, uint8)": 1,
        f"build_cache, {workers} workers": workers,
    }
    if workers == 1:
        kinds.pop(f"build_cache, {workers} workers")
    times: dict[str, list[float]] = {k: [] for k in kinds}
    sizes: dict[str, int] = {}
    names = list(kinds)
    for round_ in range(args.repeats):
        for kind in names[round_ % len(names) :] + names[: round_ % len(names)]:
            started = time.perf_counter()
            if kinds[kind] is None:
                features, _ = tutorial_create_dataset(root, classes)
                sizes[kind] = features.nbytes
                del features
            else:
                cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
                cache = build_cache(root, classes, cache_dir=cache_dir, workers=kinds[kind], progress=False, log=quiet)
                sizes[kind] = (cache.folder / "frames.npy").stat().st_size
                del cache
                shutil.rmtree(cache_dir, ignore_errors=True)
            times[kind].append(time.perf_counter() - started)
            print(f"  {kind}: {times[kind][-1]:.1f} s", flush=True)
    baseline = median(times[names[0]])
    rows = []
    for kind in names:
        t = median(times[kind])
        rows.append([kind, clips, f"{t:.2f}", f"{clips / t:.1f}", ratio(baseline / t), f"{sizes[kind] / 1e6:.0f} MB"])
    text = table(
        f"Dataset build ({clips} clips, medians of {args.repeats})",
        ["pipeline", "clips", "seconds", "clips/s", "speedup", "frames held"],
        rows,
        "frames held: the tutorial's float64 array in RAM; the cache's uint8 .npy on disk (memory-mapped "
        "by training). Times include starting the decoding threads.",
    )
    return {
        "clips": clips,
        "seconds": {k: median(v) for k, v in times.items()},
        "bytes": sizes,
        "speedup": baseline / median(times[names[-1]]),
        "markdown": text,
    }


# --------------------------------------------------------------------------- train (subprocesses)
def _worker(job: dict, timeout: float = 3600) -> dict:
    """Run `train_worker(job)` in a fresh Python, so each peak RSS is that configuration's own."""
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
    code = "import json, sys; from benchmarks.bench import train_worker; print('RESULT ' + json.dumps(train_worker(json.loads(sys.argv[1]))))"
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(job)], capture_output=True, text=True, env=env, timeout=timeout
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"benchmark worker failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


def _cache_from_folder(folder: Path, classes: list[str]):
    from har_demo.clip import ClipSettings
    from har_demo.training.dataset import FrameCache

    meta = json.loads((folder / "meta.json").read_text())
    return FrameCache(
        folder=folder,
        frames=np.load(folder / "frames.npy", mmap_mode="r"),
        labels=np.asarray(meta["labels"], dtype=np.int64),
        classes=classes,
        paths=meta["paths"],
        groups=meta["groups"],
        settings=ClipSettings.from_dict(meta["settings"]),
        root=folder,
    )


def train_worker(job: dict) -> dict:
    """One training configuration, timed per batch after the first `skip` (tracing) batches.

    mode "memmap": training.batches.make_batches over the memory-mapped uint8 cache, fitting the
    model's own Keras layers (our training before fastpath.training_model).
    mode "rewrite": the same batches fitting fastpath.training_model(model) (our training now).
    mode "tutorial": the tutorial's float64 array in RAM, `model.fit(x, y, batch_size=...)`.
    mode "memory": memmap training for `steps` batches, then one full pass over every batch of the
    cache, with the RSS sampled throughout.
    """
    import keras

    from har_demo.models import build_model
    from har_demo.training.batches import make_batches

    keras.utils.set_random_seed(27)
    cache = _cache_from_folder(Path(job["cache"]), job["classes"])
    s, batch, n_classes = cache.settings, job["batch"], len(cache.classes)
    rng = np.random.default_rng(0)
    indices = np.sort(rng.choice(len(cache.labels), size=min(job["clips"], len(cache.labels)), replace=False))
    model = build_model(job["model"], n_classes, s.frames, s.height, s.width)
    if job["mode"] == "rewrite":
        from har_demo.fastpath import training_model

        model = training_model(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])

    stamps: list[float] = []
    started = time.perf_counter()

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch_index, logs=None):
            stamps.append(time.perf_counter())

    sampler = RssSampler()
    with sampler:
        if job["mode"] == "tutorial":
            x = cache.frames[indices].astype(np.float64) / 255  # what create_dataset returned
            y = keras.utils.to_categorical(cache.labels[indices], n_classes)
            model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0, callbacks=[Clock()])
        else:
            data = make_batches(cache, indices, batch, shuffle=True, seed=27)
            steps = job.get("steps") or len(data)
            model.fit(data, epochs=1, steps_per_epoch=min(steps, len(data)), verbose=0, callbacks=[Clock()])
        trained_at = memory_status()
        if job["mode"] == "memory":  # now touch every clip of the cache once, batch by batch
            everything = make_batches(cache, np.arange(len(cache.labels)), batch, shuffle=False, seed=0)
            started = time.perf_counter()
            for i in range(len(everything)):
                everything[i]
            full_pass = time.perf_counter() - started
    skip = min(job.get("skip", 2), max(0, len(stamps) - 2))
    timed_batches = len(stamps) - 1 - skip
    seconds = stamps[-1] - stamps[skip] if timed_batches > 0 else float("nan")
    result = {
        **{k: job[k] for k in ("model", "mode", "batch")},
        "first_batch_s": stamps[0] - started if stamps else float("nan"),  # tracing, mostly
        "clips_timed": timed_batches * batch,
        "clips_per_s": timed_batches * batch / seconds if timed_batches > 0 else float("nan"),
        "peak_rss": memory_status().get("VmHWM", 0),
        "peak_rss_anon": sampler.peak.get("RssAnon", 0),
        "peak_rss_file": sampler.peak.get("RssFile", 0),
        "rss_after_training": trained_at.get("VmRSS", 0),
        "cache_clips": int(len(cache.labels)),
        "cache_bytes": int((Path(job["cache"]) / "frames.npy").stat().st_size),
    }
    if job["mode"] == "memory":
        result["full_pass_s"] = full_pass
        result["rss_end"] = memory_status().get("VmRSS", 0)
    return result


def _small_cache(args, work: Path) -> Path:
    """The build benchmark's clips (--data, or --build-clips synthetic ones), decoded, for training."""
    from har_demo.training.dataset import build_cache

    clips = args.build_clips
    root = Path(args.data) if args.data else synthetic_folder(work / f"synthetic-{clips}", clips)
    classes = [c for c in REPORT_CLASSES if (root / c).is_dir()]
    return build_cache(
        root, classes, cache_dir=work / "train-cache", workers=args.workers, progress=False, log=quiet
    ).folder


def bench_train(args, work: Path) -> dict:
    """Training throughput per model: tutorial in-RAM float64 at batch 4 vs memmap uint8 batches."""
    folder = _small_cache(args, work)
    available = len(json.loads((folder / "meta.json").read_text())["labels"])
    classes = json.loads((folder / "meta.json").read_text())["classes"]
    describe_machine()
    configs = [("tutorial", 4)] + [(mode, b) for b in args.train_batch_sizes for mode in ("memmap", "rewrite")]
    results, rows = [], []
    for name in args.models:
        per: dict[tuple[str, int], list[dict]] = {}
        for round_ in range(args.train_repeats):
            for mode, batch in configs if round_ % 2 == 0 else configs[::-1]:
                clips = min(available, max(args.train_clips, batch * (args.train_skip + 4)))
                job = {
                    "cache": str(folder),
                    "classes": classes,
                    "model": name,
                    "mode": mode,
                    "batch": batch,
                    "clips": clips,
                    "skip": args.train_skip,
                }
                out = _worker(job)
                per.setdefault((mode, batch), []).append(out)
                print(
                    f"  {name} {mode} batch {batch}: {out['clips_per_s']:.1f} clips/s, peak RSS {gb(out['peak_rss'])}",
                    flush=True,
                )
        baseline = median([r["clips_per_s"] for r in per[("tutorial", 4)]])
        for (mode, batch), outs in per.items():
            cps = median([r["clips_per_s"] for r in outs])
            first = median([r["first_batch_s"] for r in outs])
            peak = max(r["peak_rss"] for r in outs)
            results.append(
                {
                    "model": name,
                    "mode": mode,
                    "batch": batch,
                    "clips_per_s": cps,
                    "peak_rss": peak,
                    "first_batch_s": first,
                    "epoch_s_ucf50_train": 6676 * 0.75 * 0.8 / cps,
                }
            )
            label = {
                "tutorial": "tutorial (float64 in RAM)",
                "memmap": "uint8 memmap, Keras layers",
                "rewrite": "uint8 memmap, training_model (ours)",
            }[mode]
            rows.append(
                [
                    name,
                    label,
                    batch,
                    f"{cps:.1f}",
                    ratio(cps / baseline),
                    f"{first:.1f} s",
                    gb(peak),
                    f"{6676 * 0.75 * 0.8 / cps / 60:.0f} min",
                ]
            )
    text = table(
        f"Training throughput (synthetic cache, at least {args.train_clips} clips per run, medians of {args.train_repeats})",
        [
            "model",
            "data",
            "batch",
            "clips/s",
            "vs tutorial batch 4",
            "first batch",
            "peak RSS",
            "UCF50 epoch (4,006 clips)",
        ],
        rows,
        "Each configuration runs in a fresh process (so each peak RSS is its own); the first "
        f"{args.train_skip} batches (tracing) are not timed. The epoch column extrapolates to the "
        "report's 4,006 training clips of UCF50 (6,676 x 0.75 x 0.8).",
    )
    return {"rows": results, "markdown": text}


def bench_memory(args, work: Path) -> dict:
    """Full-size (6,676 clips) cache on disk, trained through the memory map; peak RSS."""
    source = _small_cache(args, work)
    meta = json.loads((source / "meta.json").read_text())
    src = np.load(source / "frames.npy", mmap_mode="r")
    folder = work / "ucf50-size-cache"
    folder.mkdir(parents=True, exist_ok=True)
    n = args.memory_clips
    describe_machine()
    print(f"Writing a {n}-clip cache from {len(src)} decoded synthetic clips repeated ...", flush=True)
    frames = np.lib.format.open_memmap(folder / "frames.npy", mode="w+", dtype=np.uint8, shape=(n, *src.shape[1:]))
    for start in range(0, n, 256):
        rows = np.arange(start, min(n, start + 256))
        frames[rows] = src[rows % len(src)]
    frames.flush()
    del frames, src
    reps = np.arange(n) % len(meta["labels"])
    (folder / "meta.json").write_text(
        json.dumps(
            {
                "settings": meta["settings"],
                "labels": [meta["labels"][i] for i in reps],
                "paths": [f"{meta['paths'][i]}#{k}" for k, i in enumerate(reps)],
                "groups": [meta["groups"][i] for i in reps],
            }
        )
    )
    disk = (folder / "frames.npy").stat().st_size
    rows, results = [], []
    try:
        for name in args.models:
            job = {
                "cache": str(folder),
                "classes": meta["classes"],
                "model": name,
                "mode": "memory",
                "batch": 4,
                "clips": n,
                "steps": args.memory_steps,
                "skip": 2,
            }
            out = _worker(job)
            results.append(out)
            rows.append(
                [
                    name,
                    n,
                    gb(disk),
                    args.memory_steps,
                    gb(out["peak_rss"]),
                    gb(out["peak_rss_anon"]),
                    gb(out["peak_rss_file"]),
                    f"{out['full_pass_s']:.0f} s",
                    gb(out["rss_end"]),
                ]
            )
            print(f"  {name}: peak RSS {gb(out['peak_rss'])}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tutorial_bytes = n * 20 * 64 * 64 * 3 * 8
    text = table(
        f"Training on a full-size cache ({n} clips, memory-mapped, batch 4)",
        [
            "model",
            "clips",
            "cache on disk",
            "training steps",
            "peak RSS",
            "peak anonymous",
            "peak file-backed",
            "then a full pass over all clips",
            "RSS at the end",
        ],
        rows,
        f"The cache holds {len(meta['labels'])} decoded synthetic clips repeated to {n} rows (the "
        f"UCF50 clip count); disk size and memory behaviour do not depend on the pixel values. For "
        f"comparison, the tutorial's float64 array of the same clips would be {gb(tutorial_bytes)} in RAM "
        f"(computed, not run: more than this machine has), {tutorial_bytes / disk:.1f}x the cache. "
        "File-backed RSS is page cache mapped from the .npy: the kernel can drop it under pressure.",
    )
    return {"clips": n, "disk_bytes": disk, "tutorial_bytes": tutorial_bytes, "rows": results, "markdown": text}


# --------------------------------------------------------------------------- CLI
def _int_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "what",
        nargs="?",
        default="clip",
        choices=(*WHAT, *BACKEND_BENCHES, "all"),
        help="which benchmark (default clip)",
    )
    add("--bundle", default=None, help="bundle to time (default: weights/, else the seed weights, else fresh models)")
    add("--fresh-models", action="store_true", help="time freshly built models (random weights)")
    add("--repeats", type=int, default=5, help="rounds of each measurement; medians are reported (default 5)")
    add("--clips", nargs="*", default=None, help="clip: video files (default: --real-clips and --synthetic)")
    add("--real-clips", type=Path, default=SHARED_DATA / "real_clips", help="clip: folder of real clips")
    add("--synthetic", type=int, default=4, help="clip: synthetic clips added to the real ones (default 4)")
    add("--batch-sizes", type=_int_list, default=[1, 2, 4, 8, 16, 32, 64, 128, 256], help="infer: batch sizes")
    add("--data", type=Path, default=None, help="build/train/memory: a UCF50-style folder (default: synthetic)")
    add("--build-clips", type=int, default=300, help="build/train/memory: synthetic clips (default 300)")
    add("--workers", type=int, default=None, help="build: decoding processes (default: all cores)")
    add("--models", type=lambda t: t.split(","), default=["convlstm", "lrcn"], help="train/memory: models")
    add("--train-batch-sizes", type=_int_list, default=[4, 8, 16, 32], help="train: batch sizes (memmap)")
    add("--train-clips", type=int, default=96, help="train: clips per timed epoch (default 96)")
    add("--train-skip", type=int, default=2, help="train: first batches not timed (tracing)")
    add("--train-repeats", type=int, default=1, help="train: rounds (each a fresh process per configuration)")
    add("--memory-clips", type=int, default=UCF50_CLIPS, help="memory: clips in the full-size cache (default 6676)")
    add("--memory-steps", type=int, default=100, help="memory: training steps at batch 4 (default 100)")
    add("--gpu-batch-sizes", type=_int_list, default=[1, 32, 256], help="gpu: batch sizes (default 1,32,256)")
    add("--seconds", type=float, default=3.0, help="gpu: time budget per measurement (default 3 s)")
    add("--gpu-repeats", type=int, default=5, help="gpu: fewest timed calls per measurement (default 5)")
    add("--backend-rounds", type=int, default=2, help="backends: interleaved rounds of fresh processes (default 2)")
    add("--startup-rounds", type=int, default=3, help="startup: interleaved rounds of fresh processes (default 3)")
    add("--latency-calls", type=int, default=20, help="backends: batch-1 calls timed per process (default 20)")
    add("--work-dir", type=Path, default=None, help="temporary files (default: a temp dir, removed at the end)")
    add("--json", type=Path, default=None, help="also write every result to this JSON file")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    chosen = WHAT if args.what == "all" else (args.what,)
    keep = args.work_dir is not None
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="har-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    benches = {
        "clip": bench_clip,
        "infer": bench_infer,
        "build": bench_build,
        "train": bench_train,
        "memory": bench_memory,
        "gpu": backends_bench.bench_gpu,
        "backends": backends_bench.bench_backends,
        "startup": startup_bench.bench_startup,
    }
    results = {"machine": machine()}
    try:
        for what in chosen:
            print(f"\n## bench {what}", flush=True)
            started = time.perf_counter()
            results[what] = benches[what](args, work)
            print(f"\n({what} took {time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, default=float))
    return 0
