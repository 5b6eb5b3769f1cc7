"""`har-demo bench gpu` and `har-demo bench backends`: the models on each Keras backend.

    gpu       one process, the backend KERAS_BACKEND names (jax and torch on the lent GPU
              machine): where the weights live, clips/s for each model at batch 1, 32 and 256
              (uint8 frames already decoded -> scaled -> model -> probabilities back on the
              host), both models end to end on a decoded real clip, the same from the file
              (decode included), and a timeline's batched windows; each measurement has a time
              budget (--seconds), so the whole run stays within minutes on a GPU or a CPU.
    backends  the CPU comparison that picks the serving default, interleaved (the order of the
              backends rotates every round), each run a fresh process: start-up (import keras,
              load the bundle, warm up), both models' batch-1 latency on a decoded clip, then
              whole processes: `har-demo predict` on one clip against a bare `import keras`, and
              on 40 real clips against the tutorial's pipeline in a process of its own.

Both print Markdown tables (docs/performance.md holds a run).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GPU_BATCHES = (1, 32, 256)
# the GPU targets on one H200-class GPU (clips/s at batch 256; ms at batch 1)
GPU_TARGETS = {"lrcn": 20_000, "convlstm": 5_000}
GPU_LATENCY_TARGET_MS = 5.0
CPU_LATENCY_TARGET_MS = 20.0  # both models, one decoded clip, batch 1, 2-core CPU
STARTUP_RATIO_TARGET = 1.5  # one clip, whole process, against a bare `import keras`
MANY_CLIPS = 40
MANY_CLIPS_SPEEDUP_TARGET = 5.0


def _median(values) -> float:
    return float(statistics.median(values)) if values else float("nan")


def timed(call, seconds: float, at_least: int = 3, at_most: int = 1000) -> list[float]:
    """Seconds per call of `call()` (after one untimed call), for about `seconds` in all."""
    call()
    times: list[float] = []
    budget_end = time.perf_counter() + seconds
    while len(times) < at_least or (time.perf_counter() < budget_end and len(times) < at_most):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def weight_devices(model) -> str:
    """Where a model's variables live, as the backend says ("cuda:0", "TFRT_CPU_0", ...)."""
    import keras

    value = model.weights[0].value
    backend = keras.backend.backend()
    try:
        if backend == "torch":
            return str(value.device)
        if backend == "jax":
            return ",".join(sorted(str(d) for d in value.devices()))
        return str(value.device)
    except Exception as exc:  # a report, never a failure
        return f"unknown ({type(exc).__name__})"


def _verdict(ok: bool, how: str) -> str:
    return f"**met** ({how})" if ok else f"**missed** ({how})"


# --------------------------------------------------------------------------- gpu
def bench_gpu(args, work: Path) -> dict:
    """The models on this process's backend: GPU when the backend sees one, else the CPU."""
    from benchmarks.common import bench_bundle, describe_machine, real_clip_paths, table
    from har_demo.backend import describe_device
    from har_demo.clip import read_clip, to_model_input
    from har_demo.inference import Predictor
    from har_demo.timeline import compute_timeline

    started = time.perf_counter()
    bundle = bench_bundle(args.bundle, work, args.fresh_models)
    predictor = Predictor(bundle)
    load_seconds = time.perf_counter() - started
    import keras

    device = describe_device()
    describe_machine({"keras": keras.__version__, "backend": keras.backend.backend(), "device": device})
    print(f"Models from {bundle.origin or bundle.path}, loaded and warmed in {load_seconds:.1f} s", flush=True)
    s = predictor.settings
    rng = np.random.default_rng(0)
    batches = args.gpu_batch_sizes
    results: dict = {"backend": keras.backend.backend(), "device": device, "models": {}, "load_seconds": load_seconds}
    rows = []
    for name in predictor.runners:
        runner = predictor.runners[name]
        results["models"][name] = {"weights_on": weight_devices(runner), "batches": {}}
        for batch in batches:
            frames = rng.integers(0, 256, (batch, s.frames, s.height, s.width, 3), dtype=np.uint8)
            compile_started = time.perf_counter()
            times = timed(
                lambda runner=runner, frames=frames: np.asarray(runner.predict_on_batch(to_model_input(frames, s))),
                args.seconds,
                args.gpu_repeats,
            )
            first = time.perf_counter() - compile_started - sum(times)
            per_call = _median(times)
            results["models"][name]["batches"][batch] = {
                "ms_per_call": per_call * 1000,
                "clips_per_s": batch / per_call,
                "first_call_s": first,
                "calls": len(times),
            }
            rows.append([name, batch, f"{per_call * 1000:.2f}", f"{batch / per_call:,.0f}", f"{first:.1f}", len(times)])
            print(f"  {name} batch {batch}: {batch / per_call:,.0f} clips/s", flush=True)
    text = table(
        f"Each model on {device} (uint8 frames -> probabilities on the host, medians)",
        ["model", "batch", "ms per call", "clips/s", "first call (s, tracing)", "calls timed"],
        rows,
        "Weights on: " + ", ".join(f"{m} {r['weights_on']}" for m, r in results["models"].items()),
    )

    clips = real_clip_paths(args.real_clips)
    ucf = [p for p in clips if p.suffix == ".avi"] or clips
    end_rows = []
    if clips:
        clip = read_clip(ucf[0], s)
        both = timed(lambda: predictor.predict_frames(clip.frames), args.seconds, args.gpu_repeats)
        from_file = timed(lambda: predictor.predict_path(ucf[0]), args.seconds, 3, 50)
        results["end_to_end"] = {
            "decoded_clip_ms": _median(both) * 1000,
            "decoded_clips_per_s": 1 / _median(both),
            "file_ms": _median(from_file) * 1000,
        }
        end_rows += [
            [f"both models, decoded clip ({ucf[0].name})", f"{_median(both) * 1000:.2f}", f"{1 / _median(both):.1f}"],
            [f"file -> both models ({ucf[0].name}, decode included)", f"{_median(from_file) * 1000:.1f}", ""],
        ]
        long_video = args.real_clips / "long_mixed_activities.mp4"
        if long_video.is_file():
            runs: list = []

            def one_timeline():
                runs.append(compute_timeline(long_video, predictor, window_s=4.0, stride_s=0.25))

            times = timed(one_timeline, args.seconds, 1, 3)  # its first call traces the batch shapes
            timeline = runs[-1]
            model_s = sum(v for k, v in timeline.seconds.items() if k != "decode")
            results["timeline"] = {
                "windows": timeline.windows,
                "seconds": _median(times),
                "model_seconds": model_s,
                "windows_per_s_models": timeline.windows / model_s,
            }
            end_rows.append(
                [
                    f"timeline, {long_video.name} ({timeline.windows} windows of 4 s every 0.25 s, batches of 32)",
                    f"{_median(times) * 1000:.0f}",
                    f"{timeline.windows / model_s:,.0f} windows/s in the models",
                ]
            )
        text += table("End to end (medians)", ["what", "ms", "clips/s"], end_rows)

    checks = []
    for name, target in GPU_TARGETS.items():
        entry = results["models"].get(name, {}).get("batches", {})
        if 256 in entry:
            cps = entry[256]["clips_per_s"]
            checks.append(
                [f"{name} batch 256 >= {target:,} clips/s", _verdict(cps >= target, f"{cps:,.0f}, {cps / target:.2f}x")]
            )
        if 1 in entry:
            ms = entry[1]["ms_per_call"]
            checks.append(
                [
                    f"{name} batch 1 <= {GPU_LATENCY_TARGET_MS:g} ms",
                    _verdict(ms <= GPU_LATENCY_TARGET_MS, f"{ms:.2f} ms"),
                ]
            )
    text += table(
        "GPU targets (H200-class GPU)",
        ["target", "this run"],
        checks,
        "" if device.startswith("GPU") else "This run had no GPU: the targets are for the GPU machine.",
    )
    results["markdown"] = text
    results["seconds"] = time.perf_counter() - started
    return results


# --------------------------------------------------------------------------- backends (CPU, subprocesses)
def startup_worker(job: dict) -> dict:
    """In a fresh process on one backend: import, load, warm, then batch-1 latency per model."""
    started = time.perf_counter()
    import keras

    imported = time.perf_counter()
    from har_demo.backend import describe_device
    from har_demo.clip import read_clip
    from har_demo.inference import Predictor
    from har_demo.loader import load_bundle

    predictor = Predictor(load_bundle(job["bundle"]), warm=False)
    loaded = time.perf_counter()
    predictor.warm_up()
    warmed = time.perf_counter()
    clip = read_clip(job["clip"], predictor.settings)
    per_model: dict[str, list[float]] = {m: [] for m in predictor.runners}
    both = []
    for _ in range(job["calls"]):
        t = time.perf_counter()
        _, seconds = predictor.predict_frames(clip.frames)
        both.append(time.perf_counter() - t)
        for m, v in seconds.items():
            per_model[m].append(v)
    return {
        "backend": keras.backend.backend(),
        "device": describe_device(),
        "import_s": imported - started,
        "load_s": loaded - imported,
        "warm_s": warmed - loaded,
        "startup_s": warmed - started,
        "model_ms": {m: _median(v) * 1000 for m, v in per_model.items()},
        "both_ms": _median(both) * 1000,
    }


def tutorial_worker(job: dict) -> dict:
    """The tutorial's pipeline, a whole process: TensorFlow Keras, load_model, then per clip
    frames by seeking and `model.predict` on each model."""
    import keras  # the tutorial's own import

    from benchmarks.common import tutorial_predict

    models = {Path(p).stem: keras.models.load_model(p, compile=False) for p in job["models"]}
    for path in job["clips"]:
        tutorial_predict(path, models)
    return {"backend": keras.backend.backend(), "clips": len(job["clips"])}


def _python(code: str, env: dict, timeout: float) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"benchmark process failed ({done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}"
        )
    return wall, done.stdout


def _worker(
    function: str, job: dict, env: dict, timeout: float = 1800, module: str = "benchmarks.backends_bench"
) -> tuple[float, dict]:
    """`module.function(job)` in a fresh process: (wall seconds, its result)."""
    code = (
        f"import json, sys; from {module} import {function} as f; "
        "print('RESULT ' + json.dumps(f(json.loads(sys.argv[1]))))"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return wall, json.loads(line[7:])
    raise RuntimeError(f"benchmark worker failed ({done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}")


def _predict_process(clips: list[Path], bundle: str, env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "predict", *map(str, clips), "--bundle", bundle, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"predict failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def bench_backends(args, work: Path) -> dict:
    """Interleaved per-backend start-up and latency, and the whole-process targets."""
    from benchmarks.common import describe_machine, real_clip_paths, table
    from har_demo.backend import BACKENDS, DISPLAY, installed

    backends = [b for b in BACKENDS if installed(b)]
    bundle = str(args.bundle or REPO / "weights")
    clips = [p for p in real_clip_paths(args.real_clips) if p.suffix == ".avi"]
    if not clips:
        raise SystemExit("bench backends needs real clips (--real-clips)")
    describe_machine({"backends": ", ".join(backends)})
    base_env = os.environ | {"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    base_env.pop("HAR_DEMO_BACKEND", None)
    envs = {b: base_env | {"KERAS_BACKEND": b} for b in backends}
    job = {"bundle": bundle, "clip": str(clips[0]), "calls": args.latency_calls}

    startup: dict[str, list[dict]] = {b: [] for b in backends}
    one_clip: dict[str, list[float]] = {b: [] for b in backends}
    bare_import: dict[str, list[float]] = {b: [] for b in backends}
    for round_ in range(args.backend_rounds):
        order = backends[round_ % len(backends) :] + backends[: round_ % len(backends)]
        for backend in order:
            wall, result = _worker("startup_worker", job, envs[backend])
            result["process_s"] = wall
            startup[backend].append(result)
            bare_import[backend].append(_python("import keras", envs[backend], 600)[0])
            one_clip[backend].append(_predict_process(clips[:1], bundle, envs[backend]))
            print(
                f"  round {round_ + 1} {backend}: start-up {result['startup_s']:.1f} s, both models "
                f"{result['both_ms']:.1f} ms; predict one clip {one_clip[backend][-1]:.1f} s, "
                f"import keras {bare_import[backend][-1]:.1f} s",
                flush=True,
            )

    def med(backend, key):
        return _median([r[key] for r in startup[backend]])

    rows, summary = [], {}
    for b in backends:
        both = med(b, "both_ms")
        models = {m: _median([r["model_ms"][m] for r in startup[b]]) for m in startup[b][0]["model_ms"]}
        first_answers = med(b, "startup_s") + MANY_CLIPS * both / 1000
        summary[b] = {
            "import_s": med(b, "import_s"),
            "load_s": med(b, "load_s"),
            "warm_s": med(b, "warm_s"),
            "startup_s": med(b, "startup_s"),
            "model_ms": models,
            "both_ms": both,
            "predict_one_clip_s": _median(one_clip[b]),
            "bare_import_keras_s": _median(bare_import[b]),
            "forty_clip_estimate_s": first_answers,
        }
        rows.append(
            [
                DISPLAY[b],
                f"{summary[b]['import_s']:.1f}",
                f"{summary[b]['load_s']:.1f}",
                f"{summary[b]['warm_s']:.1f}",
                f"**{summary[b]['startup_s']:.1f}**",
                *(f"{v:.1f}" for v in models.values()),
                f"**{both:.1f}**",
                f"{first_answers:.1f}",
            ]
        )
    fastest = min(backends, key=lambda b: summary[b]["forty_clip_estimate_s"])
    text = table(
        f"Start-up and latency per backend (CPU, medians of {args.backend_rounds} interleaved rounds, fresh processes)",
        [
            "backend",
            "import keras (s)",
            "load bundle (s)",
            "warm-up (s)",
            "start-up (s)",
            *(f"{m} ms" for m in startup[backends[0]][0]["model_ms"]),
            "both models ms",
            f"start-up + {MANY_CLIPS} clips (s)",
        ],
        rows,
        f"Batch 1, one decoded clip ({clips[0].name}), {args.latency_calls} calls per process, the fused fast path. "
        f"The last column ranks the backends for serving: start-up plus {MANY_CLIPS} clips' model time. "
        f"Fastest here: **{DISPLAY[fastest]}**.",
    )

    # whole processes: one clip vs a bare `import keras`, per backend
    ratio_rows = []
    for b in backends:
        r = summary[b]["predict_one_clip_s"] / summary[b]["bare_import_keras_s"]
        summary[b]["one_clip_vs_import"] = r
        ratio_rows.append(
            [
                DISPLAY[b],
                f"{summary[b]['predict_one_clip_s']:.1f}",
                f"{summary[b]['bare_import_keras_s']:.1f}",
                f"{r:.2f}x",
                _verdict(r <= STARTUP_RATIO_TARGET, f"target <= {STARTUP_RATIO_TARGET}x"),
            ]
        )
    text += table(
        "One clip, whole process: `har-demo predict CLIP --json` against `python -c 'import keras'` (medians)",
        ["backend", "predict one clip (s)", "import keras (s)", "ratio", "target"],
        ratio_rows,
    )

    # 40 real clips (the real ones repeated), whole process: ours on the serving default vs the tutorial
    many = [clips[i % len(clips)] for i in range(MANY_CLIPS)]
    tutorial_models = [str(p) for p in sorted(Path(bundle).glob("*.keras"))]
    ours_backend = fastest
    ours, tutorial = [], []
    for round_ in range(2):
        for kind in ("ours", "tutorial") if round_ == 0 else ("tutorial", "ours"):
            if kind == "ours":
                ours.append(_predict_process(many, bundle, envs[ours_backend]))
            else:
                wall, _ = _worker(
                    "tutorial_worker", {"models": tutorial_models, "clips": list(map(str, many))}, envs["tensorflow"]
                )
                tutorial.append(wall)
            print(f"  {MANY_CLIPS} clips, {kind}: {(ours if kind == 'ours' else tutorial)[-1]:.1f} s", flush=True)
    speedup = min(tutorial) / min(ours)
    summary["forty_clips"] = {"ours_s": ours, "tutorial_s": tutorial, "speedup_best": speedup, "backend": ours_backend}
    text += table(
        f"{MANY_CLIPS} real clips, whole process (best of two interleaved runs)",
        ["pipeline", "runs (s)", "best (s)", "speedup", "target"],
        [
            [
                "tutorial (TensorFlow, seek per frame, `model.predict`)",
                ", ".join(f"{t:.1f}" for t in tutorial),
                f"{min(tutorial):.1f}",
                "1.00x",
                "",
            ],
            [
                f"`har-demo predict` x{MANY_CLIPS} ({DISPLAY[ours_backend]})",
                ", ".join(f"{t:.1f}" for t in ours),
                f"{min(ours):.1f}",
                f"**{speedup:.2f}x**",
                _verdict(speedup >= MANY_CLIPS_SPEEDUP_TARGET, f"target >= {MANY_CLIPS_SPEEDUP_TARGET:g}x"),
            ],
        ],
        f"The {len(clips)} real clips repeated to {MANY_CLIPS}; both pipelines load the same bundle models "
        f"({', '.join(Path(m).name for m in tutorial_models)}).",
    )
    best_latency = min(backends, key=lambda b: summary[b]["both_ms"])
    ms = summary[best_latency]["both_ms"]
    text += table(
        "Both models on a decoded clip, batch 1, this CPU",
        ["target", "best backend", "this run"],
        [
            [
                f"<= {CPU_LATENCY_TARGET_MS:g} ms",
                DISPLAY[best_latency],
                _verdict(ms <= CPU_LATENCY_TARGET_MS, f"{ms:.1f} ms, {ms / CPU_LATENCY_TARGET_MS:.2f}x the target"),
            ]
        ],
    )
    return {"summary": summary, "fastest": fastest, "markdown": text}
