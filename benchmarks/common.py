"""What every benchmark shares: the machine in words, timing and memory helpers, the tutorial's
own pipeline (the baseline most targets are measured against), and the inputs (synthetic and real clips)."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import threading
import time
from pathlib import Path

import numpy as np

from har_demo.names import REPORT_CLASSES

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
UCF50_CLIPS = 6676


# --------------------------------------------------------------------------- tables and machine
def median(values) -> float:
    return float(statistics.median(values)) if len(values) else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x" if math.isfinite(value) else "n/a"


def gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.2f} GB"


def table(title: str, header: list[str], rows: list[list], note: str = "") -> str:
    """A Markdown table (readable in a terminal, pasted as is into docs/performance.md)."""
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    if note:
        lines.append(f"\n{note}")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def machine() -> dict:
    """What the numbers were measured on: cores, CPU model, RAM, load, libraries."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    info = {
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": model or platform.processor(),
        "ram_gb": round(ram / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
    return info


def describe_machine(extra: dict | None = None) -> str:
    info = machine() | (extra or {})
    text = (
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['ram_gb']} GiB RAM, "
        f"load average {info['load_average']} (shared with other work), Python {info['python']}"
    )
    for key in ("keras", "backend", "device", "opencv"):
        if key in info:
            text += f", {key} {info[key]}"
    print(text, flush=True)
    return text


def memory_status(pid: str | int = "self") -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS), RssAnon and RssFile of a process, in bytes (Linux /proc)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                values[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return values


class RssSampler:
    """Samples a process's RSS (anonymous and file-backed) in a thread; keeps the peaks."""

    def __init__(self, pid: str | int = "self", every: float = 0.1) -> None:
        self.pid, self.every = pid, every
        self.peak: dict[str, int] = {}
        self.samples: list[tuple[float, int]] = []  # (time, VmRSS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            status = memory_status(self.pid)
            if not status:
                break
            for key, value in status.items():
                self.peak[key] = max(self.peak.get(key, 0), value)
            self.samples.append((time.perf_counter() - started, status.get("VmRSS", 0)))
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- the tutorial, as baseline
def tutorial_frames(path, frames: int = 20, height: int = 64, width: int = 64) -> list[np.ndarray]:
    """The tutorial's frames_extraction: seek to each sampled frame, resize, /255 (float64)."""
    import cv2

    reader = cv2.VideoCapture(str(path))
    count = int(reader.get(cv2.CAP_PROP_FRAME_COUNT))
    window = max(int(count / frames), 1)
    out = []
    for i in range(frames):
        reader.set(cv2.CAP_PROP_POS_FRAMES, i * window)
        ok, frame = reader.read()
        if not ok:
            break
        out.append(cv2.resize(frame, (height, width)) / 255)
    reader.release()
    return out


def tutorial_predict(path, models: dict) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The tutorial's per-clip prediction: frames by seeking, then `model.predict` on each model."""
    seconds = {}
    started = time.perf_counter()
    frames = tutorial_frames(path)
    if 0 < len(frames) < 20:  # the tutorial would crash here; repeat the last frame instead
        frames += [frames[-1]] * (20 - len(frames))
    x = np.expand_dims(np.asarray(frames), axis=0)
    seconds["decode"] = time.perf_counter() - started
    probabilities = {}
    for name, model in models.items():
        started = time.perf_counter()
        probabilities[name] = model.predict(x, verbose=0)[0]
        seconds[name] = time.perf_counter() - started
    return probabilities, seconds


def tutorial_create_dataset(root: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's create_dataset: every clip in turn, frames by seeking, float64 in a list."""
    features, labels = [], []
    for index, name in enumerate(classes):
        for file in sorted(os.listdir(root / name)):
            frames = tutorial_frames(root / name / file)
            if len(frames) == 20:
                features.append(frames)
                labels.append(index)
    return np.asarray(features), np.array(labels)


def decode_floor(path) -> int:
    """One plain sequential decode of every frame (OpenCV's defaults): no pipeline does less."""
    import cv2

    reader = cv2.VideoCapture(str(path))
    count = 0
    while True:
        ok, _ = reader.read()
        if not ok:
            break
        count += 1
    reader.release()
    return count


# --------------------------------------------------------------------------- inputs
def quiet(*_args, **_kwargs) -> None:
    pass


def synthetic_folder(folder: Path, clips: int, workers: int | None = None) -> Path:
    """A UCF50-layout folder of `clips` rendered clips (training.synth), reused if already there."""
    from har_demo.training.synth import write_synthetic_dataset

    per_class = max(1, math.ceil(clips / len(REPORT_CLASSES)))
    marker = folder / "SYNTHETIC.json"
    if marker.is_file() and json.loads(marker.read_text()).get("clips_per_class") == per_class:
        return folder
    write_synthetic_dataset(folder, per_class, workers=workers, progress=False)
    return folder


def synthetic_clip_paths(folder: Path, clips: int) -> list[Path]:
    if clips <= 0:
        return []
    synthetic_folder(folder, clips)
    by_class = [sorted((folder / c).iterdir()) for c in REPORT_CLASSES]
    paths = [p for group in zip(*by_class) for p in group]  # one of each class in turn
    return paths[:clips]


def real_clip_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def bench_bundle(ref: str | None, work: Path, fresh: bool = False):
    """--bundle, else the shipped weights/, else the seed tutorial weights imported, else fresh
    models (random weights: timing does not depend on the weights)."""
    from har_demo.bundle import Bundle, new_manifest
    from har_demo.clip import ClipSettings
    from har_demo.loader import load_bundle

    if ref:
        return load_bundle(ref)
    if not fresh and (REPO / "weights" / "manifest.json").is_file():
        return load_bundle(REPO / "weights")
    seeds = [SHARED_DATA / "tutorial_weights" / f"seed_{n}_keras3.h5" for n in ("convlstm", "lrcn")]
    if not fresh and all(p.is_file() for p in seeds):
        from har_demo.training.import_weights import import_bundle

        bundle = load_bundle(import_bundle(work / "seed_bundle", seeds, REPORT_CLASSES))
        bundle.origin = "the report author's seed weights (imported)"
        return bundle
    from har_demo.models import build_model

    settings = ClipSettings()
    models = {n: build_model(n, len(REPORT_CLASSES)) for n in ("convlstm", "lrcn")}
    entries = {n: {"file": f"{n}.keras", "params": int(m.count_params())} for n, m in models.items()}
    manifest = new_manifest(name="fresh", classes=REPORT_CLASSES, settings=settings, models=entries, source="fresh")
    return Bundle(path=work, manifest=manifest, models=models, origin="fresh models (random weights)")


def keras_info(predictor=None) -> dict:
    import cv2
    import keras

    info = {"keras": keras.__version__, "backend": keras.backend.backend(), "opencv": cv2.__version__}
    if predictor is not None:
        from har_demo.backend import describe_device

        info["device"] = describe_device()
    return info


# --------------------------------------------------------------------------- clip
