"""The Train tab's page paths through gradio_client, against a real server on 127.0.0.1.

Recording cut to the chosen length; importing tutorial files of other shapes (binary sigmoid
10x128x128x3, grayscale 10x128x128x1) and predicting a real clip with them; the Models and
Misclassifications tabs and the example clips following the session's own bundle while another
session keeps the shipped one; Stop from the page; a push from the page to the loopback Hub
(tests/hub_server.py) with the token nowhere in outputs, logs or files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file

from har_demo.training.synth import render_clip, write_video

pytest_plugins = ["tests.app_fixtures"]
pytestmark = pytest.mark.slow  # a server, real Keras models

TOKEN = "hf_studio_SECRET_page_token_5551234567"
DRAWN = {"Waving": "TaiChi", "Pushing": "Swing", "Running": "HorseRace"}  # class name -> what synth draws


@pytest.fixture(scope="module")
def page_server(engine, tmp_path_factory):
    """Predict, Misclassifications, Models and Train tabs; the studio in this test's folder, 5 s clips."""
    import har_demo.app.studio_tab as studio_tab
    from har_demo.app import EngineRegistry, build_demo
    from har_demo.studio.limits import StudioLimits
    from tests.app_fixtures import free_port

    registry = EngineRegistry(engine)
    state = studio_tab.StudioState(StudioLimits(max_clip_seconds=5), base=tmp_path_factory.mktemp("page-sessions"))
    original = studio_tab.StudioState
    studio_tab.StudioState = lambda *a, **k: state
    try:
        demo = build_demo(registry, tabs=("predict", "misclassified", "models", "studio"))
    finally:
        studio_tab.StudioState = original
    demo.queue(default_concurrency_limit=4)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", demo, registry, state
    finally:
        demo.close()


@pytest.fixture(scope="module")
def tiny_clips(tmp_path_factory) -> dict[str, list[Path]]:
    """Two small 1 s clips per class (one per group): the least a studio training takes."""
    folder = tmp_path_factory.mktemp("page-clips")
    rng = np.random.default_rng(11)
    clips = {}
    for label, drawn in DRAWN.items():
        clips[label] = []
        for i in range(2):
            path = folder / f"{label}_{i}.webm"
            write_video(path, render_clip(drawn, rng, width=128, height=96, seconds=1.0))
            clips[label].append(path)
    return clips


def fill(client: Client, clips: dict[str, list[Path]]) -> None:
    for label, paths in clips.items():
        client.predict(label, api_name="/studio_add_class")
        for group, path in enumerate(paths, start=1):
            status, *_ = client.predict(label, group, [handle_file(str(path))], api_name="/studio_upload")
            assert "Added 1 clip" in status, status


def models_banner(client: Client) -> tuple[str, str, list]:
    """(provenance, Table 1, the layer tables) of the Models tab for this client's session."""
    outputs = client.predict(api_name="/models")
    return outputs[0], outputs[1], [t for t in outputs[-2:] if t]


def only_key(registry) -> str:
    keys = list(registry._engines)
    assert len(keys) == 1, keys
    return keys[0]


def frame_count(path: Path) -> int:
    import cv2

    cap, n = cv2.VideoCapture(str(path)), 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


# --------------------------------------------------------------------------- recording
def test_a_recording_is_cut_to_the_chosen_length(page_server, tmp_path):
    """What the page's countdown recorder sends (a webm longer than the clip) is cut to the slider's length."""
    url, _demo, _registry, state = page_server
    recording = tmp_path / "recording.webm"
    write_video(recording, render_clip("TaiChi", np.random.default_rng(1), width=160, height=120, seconds=3.6), fps=25)
    assert frame_count(recording) == 90
    client = Client(url, verbose=False)
    try:
        client.predict("Recorded", api_name="/studio_add_class")
        for seconds in (2, 3):
            status, *_ = client.predict("Recorded", 1, seconds, handle_file(str(recording)), api_name="/studio_record")
            assert "Added 1 clip to **Recorded**" in status, status
        status, *_ = client.predict("Recorded", 1, 4, handle_file(str(recording)), api_name="/studio_record")
        assert "Added 1 clip" in status  # 4 s asked of 3.6 s: all of it
        with pytest.raises(Exception, match="greater than maximum value 4"):  # the page offers 2-4 s only
            client.predict("Recorded", 1, 9, handle_file(str(recording)), api_name="/studio_record")
    finally:
        client.close()
    clips = sorted(state.sessions.base.glob("*/studio/Recorded/*"))
    assert [frame_count(c) for c in clips] == [50, 75, 90]  # 2 s, 3 s and 4 s at 25 fps (all 3.6 s of it)
