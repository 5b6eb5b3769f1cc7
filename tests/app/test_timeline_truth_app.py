"""The true-label band reaches the Timeline tab: the one-activity example clips
are offered there, the timeline of a clip whose file name states its class carries the band, the
mixed example's carries its four pieces (from its sidecar) and so does its annotated video, through
the real app and gradio_client; a clip of unknown truth gets none."""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest
from gradio_client import Client, handle_file

from har_demo.names import REPORT_CLASSES
from har_demo.plots import class_colour
from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME, example_clip_name

pytestmark = pytest.mark.slow  # starts the app server


@pytest.fixture(scope="module")
def client(app_server):
    client = Client(app_server.url, verbose=False)
    yield client
    client.close()


def band_names(plot: dict) -> list[str]:
    figure = json.loads(plot["plot"])
    return [t.get("name", "") for t in figure["data"] if t.get("name", "").startswith("true: ")]


def test_the_timeline_tab_offers_the_one_activity_examples(app_server):
    (dataset,) = [
        c for c in app_server.demo.config["components"] if c["props"].get("elem_id") == "timeline-class-examples"
    ]
    samples = json.dumps(dataset["props"]["samples"])
    for name in ("TaiChi", "Swing", "HorseRace", "WalkingWithDog"):
        assert example_clip_name(name) in samples


def test_an_example_clips_timeline_carries_its_true_label_band(client):
    summary, plot, _files, *_segments = client.predict(
        handle_file(str(EXAMPLES_DIR / example_clip_name("TaiChi"))), 2.0, 0.5, api_name="/timeline"
    )
    assert band_names(plot) == ["true: TaiChi"]
    assert "true label (from the file name): **TaiChi**" in summary


def test_a_clip_of_unknown_truth_has_no_band(client, real_clips):
    summary, plot, *_ = client.predict(
        handle_file(str(real_clips / "long_mixed_activities.mp4")), 4.0, 2.0, api_name="/timeline"
    )
    assert plot["type"] == "plotly" and band_names(plot) == []
    assert "true label" not in summary


def decoded(values) -> list[float]:
    """A plotly JSON array: a list, or a typed array ({"dtype", "bdata"} base64) as plotly sends numpy."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return [float("nan") if v is None else v for v in values]


def band_pieces(plot: dict) -> dict[str, list[list[float]]]:
    """label -> [start, end] of each rectangle of its band trace (x0 x0 x1 x1 x0, gaps between)."""
    figure = json.loads(plot["plot"])
    pieces = {}
    for trace in figure["data"]:
        name = trace.get("name", "")
        if name.startswith("true: "):
            xs = decoded(trace["x"])
            rects = [xs[i : i + 5] for i in range(0, len(xs), 6)]
            pieces[name.removeprefix("true: ")] = [[r[0], r[2]] for r in rects]
    return pieces


@pytest.fixture(scope="module")
def mixed_run(client):
    return client.predict(handle_file(str(EXAMPLES_DIR / MIXED_EXAMPLE_NAME)), 4.0, 1.0, api_name="/timeline")


def test_the_mixed_examples_timeline_carries_its_four_true_pieces(mixed_run):
    summary, plot, _files, *_segments = mixed_run
    pieces = band_pieces(plot)
    assert pieces == {name: [[4.0 * i, 4.0 * (i + 1)]] for i, name in enumerate(REPORT_CLASSES)}
    figure = json.loads(plot["plot"])
    texts = [a["text"] for a in figure["layout"]["annotations"] if "true:" in a.get("text", "")]
    assert sorted(texts) == sorted(f"<b>true: {name}</b>" for name in REPORT_CLASSES)
    assert "true labels from synthetic_mixed_activities.truth.json: WalkingWithDog 0–4 s, TaiChi 4–8 s" in summary


def test_the_mixed_examples_annotated_video_has_the_pieces_in_its_strip(client, mixed_run):
    _summary, _plot, files, *_ = mixed_run
    (json_file,) = [f for f in files if f.endswith(".json")]
    _player, made = client.predict(
        handle_file(str(EXAMPLES_DIR / MIXED_EXAMPLE_NAME)), [handle_file(json_file)], api_name="/annotate"
    )
    (mp4,) = [f for f in made if f.endswith(".mp4")]
    cap = cv2.VideoCapture(mp4)
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape[:2] == (240, 320)
    truth_row = frame[240 - 8 + 1 : 240 - 8 + 5]  # the strip's last row of three (2 models + truth), 6 px + 2
    for i, name in enumerate(REPORT_CLASSES):
        x = int((i + 0.5) * 80)
        hexed = class_colour(i).lstrip("#")
        expected = np.array([int(hexed[k : k + 2], 16) for k in (4, 2, 0)])  # BGR
        seen = truth_row[:, x - 3 : x + 3].reshape(-1, 3).mean(axis=0)
        assert np.abs(seen - expected).max() < 40, (name, seen, expected)
