"""Plain helpers the tests share (fixtures are in conftest.py and app_fixtures.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]  # the report's four
STUDIO_SET_CLASSES = ("TaiChi", "Swing", "HorseRace")  # make_set's classes


# The studio tests' classes: a class name -> what training.synth draws for it.
STUDIO_DRAWN = {"Waving": "TaiChi", "Pushing": "Swing", "Running": "HorseRace"}


CHILD_TIMEOUT_S = 600  # a test's child Python on another Keras backend


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_camera_args(video: Path) -> list[str]:
    """Headless Chromium flags for a fake webcam that plays `video` (a .y4m) and asks no permission."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


def studio_clips_in(folder: Path, per_class: int, seed: int, width: int, height: int) -> dict[str, list[Path]]:
    """`per_class` synthetic 1 s .webm clips for each studio class, written in `folder`."""
    from har_demo.training.synth import render_clip, write_video

    rng = np.random.default_rng(seed)
    clips: dict[str, list[Path]] = {}
    for label, drawn in STUDIO_DRAWN.items():
        clips[label] = []
        for i in range(per_class):
            path = folder / f"{label}_{i}.webm"
            write_video(path, render_clip(drawn, rng, width=width, height=height, seconds=1.0))
            clips[label].append(path)
    return clips


def need(backend: str) -> None:
    """Skip a backend that is not installed here; in CI (CI=true) that is a failure instead."""
    from har_demo.backend import installed

    if not installed(backend):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{backend} is not installed; .ci/run installs it")
        pytest.skip(f"{backend} is not installed")


def made_timeline(frame_count: int, fps: float, tops: dict[str, list[int]]):
    """A Timeline over `frame_count` frames whose windows' top classes are `tops` (model -> per window)."""
    from har_demo.names import REPORT_CLASSES
    from har_demo.timeline import Timeline, window_indices, window_starts

    span, stride = int(2 * fps), int(0.5 * fps)
    starts = window_starts(frame_count, span, stride)
    probabilities = {}
    for model, top in tops.items():
        assert len(top) == len(starts)
        p = np.full((len(starts), len(REPORT_CLASSES)), 0.1, np.float32)
        p[np.arange(len(starts)), top] = 0.7
        probabilities[model] = p
    return Timeline(
        source="test",
        classes=list(REPORT_CLASSES),
        fps=fps,
        frame_count=frame_count,
        window_s=2.0,
        stride_s=0.5,
        span_frames=span,
        stride_frames=stride,
        sampling="tutorial",
        start_frames=starts,
        frame_indices=window_indices(starts, span, frame_count, 20, "tutorial"),
        probabilities=probabilities,
    )


def make_set(folder: Path, clips_per_group: int = 2, groups: int = 2, seed: int = 0):
    """A studio ClassSet of three synthetic classes, `groups` groups of `clips_per_group` 1 s clips each."""
    from har_demo.studio.classset import ClassSet
    from har_demo.training.synth import render_clip, write_video

    s = ClassSet(folder)
    rng = np.random.default_rng(seed)
    tmp = folder / "incoming"
    for label in STUDIO_SET_CLASSES:
        s.add_class(label)
        for group in range(1, groups + 1):
            for i in range(clips_per_group):
                path = tmp / f"{label}{group}{i}.webm"
                write_video(path, render_clip(label, rng, width=128, height=96, seconds=1.0))
                s.add_clip(label, path, group)
    return s


def assert_round_trips(folder: Path, laid_out_by_har_demo: bool = True) -> None:
    """A bundle's manifest.json and report.json, read and written again, are the same bytes; a file a
    test wrote in another layout (no indent) comes back as the same document in har-demo's layout."""
    import json

    from har_demo.manifest import MANIFEST_NAME, REPORT_NAME, Manifest, Report

    for name, kind, indent, end in ((MANIFEST_NAME, Manifest, 2, "\n"), (REPORT_NAME, Report, 1, "")):
        if name == MANIFEST_NAME or (folder / name).exists():
            text = (folder / name).read_text()
            expected = text if laid_out_by_har_demo else json.dumps(json.loads(text), indent=indent) + end
            assert kind.from_json(text).to_json() == expected, f"{folder / name} must write back as read"


def front_matter(text: str) -> dict:
    """A model card's YAML front matter."""
    import yaml

    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def data_urls(clip: Path, count: int) -> list[str]:
    """The first `count` frames of `clip` as JPEG data URLs, as a browser's webcam stream sends them."""
    import base64

    import cv2

    cap = cv2.VideoCapture(str(clip))
    urls = []
    while len(urls) < count:
        ok, frame = cap.read()
        if not ok:
            break
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
        urls.append("data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode())
    cap.release()
    return urls
