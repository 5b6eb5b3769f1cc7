"""Fixtures for the app's tests (import them into a test module by name).

- `imported_bundle`: the seed tutorial weights imported as a bundle (real trained models, no report).
- `reported_bundle`: the same models with a report.json made by training.evaluate's own
  `compute_metrics` on real and synthetic clips (a few of them misclassified, with frame strips),
  marked as trained on synthetic data: every report view has something real to show, in seconds
  instead of a training run.
- `imported` / `reported`: those bundles loaded (once, sharing one set of models).
- `predictor`, `engine`: the models warmed once, behind `har_demo.app.engine.Engine` (serving the reported bundle).
- `bad_videos`: files the app must refuse with a message.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import CLASSES, free_port
from tests.paths import REPO

EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def imported_bundle(tmp_path_factory, tutorial_weights) -> Path:
    from har_demo.training.import_weights import import_bundle

    out = tmp_path_factory.mktemp("bundles") / "imported"
    import_bundle(
        out, [tutorial_weights / "seed_convlstm_keras3.h5", tutorial_weights / "seed_lrcn_keras3.h5"], CLASSES
    )
    return out


@pytest.fixture(scope="session")
def imported(imported_bundle):
    """The imported bundle, loaded once."""
    from har_demo.loader import load_bundle

    return load_bundle(imported_bundle)


@pytest.fixture(scope="session")
def predictor(imported):
    """The seed models, loaded once and warmed for a clip and a batch of timeline windows."""
    from har_demo.inference import Predictor
    from har_demo.timeline import BATCH_SIZE

    predictor = Predictor(imported, warm=False)
    predictor.warm_up((1, BATCH_SIZE))
    return predictor


@pytest.fixture(scope="session")
def reported_bundle(tmp_path_factory, imported_bundle, imported, predictor, real_clips) -> Path:
    """A bundle with a report.json in the format training.evaluate writes (see its docstring)."""
    from har_demo.bundle import REPORT_NAME, read_manifest, write_manifest
    from har_demo.clip import read_clip
    from har_demo.images import frame_strip, write_image
    from har_demo.training.evaluate import compute_metrics

    out = tmp_path_factory.mktemp("bundles") / "reported"
    shutil.copytree(imported_bundle, out)
    settings = imported.settings
    clips = [real_clips / f"v_{c}_g01_c0{i}.avi" for c, i in zip(CLASSES, (3, 2, 5, 4))]
    clips += [EXAMPLES / f"synthetic_{c}.webm" for c in CLASSES]
    labels = [CLASSES.index(c) for c in CLASSES] * 2
    frames = [read_clip(p, settings).frames for p in clips]
    probs, _ = predictor.predict_frames(np.stack(frames))
    models = {}
    for name, p in probs.items():
        metrics = compute_metrics(np.array(labels), p, CLASSES)
        wrong = []
        for row in np.flatnonzero(p.argmax(axis=1) != np.array(labels)):
            image = out / "misclassified" / f"{name}_{clips[row].stem}.jpg"
            image.parent.mkdir(exist_ok=True)
            write_image(image, frame_strip(frames[row], settings.color_order))
            wrong.append(
                {
                    "clip": f"{CLASSES[labels[row]]}/{clips[row].name}",
                    "true": CLASSES[labels[row]],
                    "predicted": CLASSES[int(p[row].argmax())],
                    "confidence": round(float(p[row].max()), 4),
                    "probabilities": {c: round(float(x), 4) for c, x in zip(CLASSES, p[row])},
                    "image": f"misclassified/{image.name}",
                }
            )
        models[name] = {
            "history": {
                "loss": [1.3, 0.9, 0.6, 0.5],
                "accuracy": [0.3, 0.6, 0.8, 0.85],
                "val_loss": [1.2, 0.95, 0.8, 0.85],
                "val_accuracy": [0.35, 0.55, 0.7, 0.65],
            },
            "epochs_trained": 4,
            "best_epoch": 3,
            "train_seconds": 12.0,
            "params": int(imported.models[name].count_params()),
            "test": metrics,
            "misclassified": wrong,
        }
    split = {
        "kind": "group",
        "test_fraction": 0.25,
        "val_fraction": 0.2,
        "seed": 27,
        "train_clips": 24,
        "val_clips": 6,
        "test_clips": len(clips),
    }
    dataset = {"name": "synthetic-test", "synthetic": True, "clips": 38, "classes": CLASSES, "skipped": []}
    (out / REPORT_NAME).write_text(json.dumps({"split": split, "dataset": dataset, "models": models}, indent=1))
    manifest = read_manifest(out).model_copy(
        update={"dataset": dataset, "split": split, "source": "trained", "name": "synthetic-test-group-split"}
    )
    write_manifest(out, manifest)
    return out


@pytest.fixture(scope="session")
def reported(reported_bundle, imported):
    """The reported bundle as load_bundle would return it, sharing the already loaded models."""
    from har_demo.bundle import REPORT_NAME, Bundle, read_manifest, verify_files

    manifest = read_manifest(reported_bundle)
    verify_files(reported_bundle, manifest)
    report = json.loads((reported_bundle / REPORT_NAME).read_text())
    return Bundle(
        path=reported_bundle, manifest=manifest, models=imported.models, report=report, origin=str(reported_bundle)
    )


@pytest.fixture(scope="session")
def engine(predictor, reported):
    from har_demo.app.engine import Engine

    return Engine(predictor, bundle=reported)


@pytest.fixture(scope="session")
def bad_videos(tmp_path_factory, real_clips) -> dict[str, Path]:
    """name -> file: not a video, empty, corrupt (a real clip cut short), a one-frame video."""
    import cv2

    folder = tmp_path_factory.mktemp("bad")
    files = {}
    files["not_a_video"] = folder / "notes.mp4"
    files["not_a_video"].write_text("these are lecture notes, not a video\n" * 50)
    files["empty"] = folder / "empty.avi"
    files["empty"].write_bytes(b"")
    source = (real_clips / "v_TaiChi_g01_c02.avi").read_bytes()
    files["corrupt"] = folder / "truncated.avi"
    files["corrupt"].write_bytes(source[: len(source) // 10])  # 14 of 168 frames: too few to sample
    files["garbage"] = folder / "garbage.webm"
    files["garbage"].write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    short = folder / "three_frames.avi"
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(3):
        writer.write(np.full((240, 320, 3), 40 + 60 * i, dtype=np.uint8))
    writer.release()
    files["short"] = short
    return files


@pytest.fixture(scope="session")
def app_server(reported_bundle, tmp_path_factory):
    """`app.py`'s own start-up (bundle from a reference, load, warm, build, queue) launched on a
    free local port. Yields an object with .url, .demo, .engine and .startup_seconds."""
    import os
    import time
    from types import SimpleNamespace

    os.environ["GRADIO_EXAMPLES_CACHE"] = str(tmp_path_factory.mktemp("gradio-examples"))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import app

    started = time.perf_counter()
    demo, engine = app.create_demo(str(reported_bundle))
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.launch_options(engine)
    )
    server = SimpleNamespace(
        url=f"http://127.0.0.1:{port}/", demo=demo, engine=engine, startup_seconds=time.perf_counter() - started
    )
    try:
        yield server
    finally:
        demo.close()
