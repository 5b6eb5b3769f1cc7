"""The true-label band reaches the Timeline tab (issue #12 item 4): the one-activity example clips
are offered there, and the timeline of a clip whose file name states its class carries the band,
through the real app and gradio_client; a clip of unknown truth gets none."""

from __future__ import annotations

import json

import pytest
from gradio_client import Client, handle_file

from har_demo.shipped import EXAMPLES_DIR, example_clip_name

pytest_plugins = ["tests.app_fixtures"]
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
