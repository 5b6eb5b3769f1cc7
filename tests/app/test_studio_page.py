"""The Train tab's page paths through gradio_client, against a real server on 127.0.0.1.

Recording cut to the chosen length; importing tutorial files of other shapes (binary sigmoid
10x128x128x3, grayscale 10x128x128x1) and predicting a real clip with them; the Models and
Misclassifications tabs and the example clips following the session's own bundle while another
session keeps the shipped one; Stop from the page; a push from the page to the loopback Hub
(tests/hub_server.py) with the token nowhere in outputs, logs or files.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file

from har_demo.training.synth import render_clip, write_video
from tests.helpers import STUDIO_DRAWN, studio_clips_in
from tests.paths import EXAMPLES

pytestmark = pytest.mark.slow  # a server, real Keras models

EXAMPLE = EXAMPLES / "synthetic_Swing.webm"
TOKEN = "hf_studio_SECRET_page_token_5551234567"
DRAWN = STUDIO_DRAWN


@pytest.fixture(scope="module")
def page_server(engine, tmp_path_factory):
    """Predict, Misclassifications, Models and Train tabs; the studio in this test's folder, 5 s clips."""
    import har_demo.app.studio_tab as studio_tab
    from har_demo.app import EngineRegistry, build_demo
    from har_demo.studio.limits import StudioLimits
    from tests.helpers import free_port

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
    return studio_clips_in(tmp_path_factory.mktemp("page-clips"), per_class=2, seed=11, width=128, height=96)


def fill(client: Client, clips: dict[str, list[Path]]) -> None:
    for label, paths in clips.items():
        client.predict(label, api_name="/studio_add_class")
        for group, path in enumerate(paths, start=1):
            status, *_ = client.predict(label, group, [handle_file(str(path))], api_name="/studio_upload")
            assert "Added 1 clip" in status, status


def models_banner(client: Client) -> tuple[str, str, list]:
    """(provenance, Table 1, the layer tables) of the Models tab for this client's session."""
    outputs = [o.get("value") if isinstance(o, dict) else o for o in client.predict(api_name="/models")]
    return outputs[0], outputs[1], [t for t in outputs[-2:] if t]


def only_key(registry) -> str:
    keys = registry.keys()
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


# --------------------------------------------------------------------------- own models, every tab
PEERS = {
    "peer_lrcn_binary_10x128.h5": (["Calm", "Fighting"], "lrcn", (10, 128, 128, 3)),
    "peer_convlstm_gray_10x128.h5": (["Still", "Moving"], "convlstm", (10, 128, 128, 1)),
}


@pytest.mark.parametrize("name", sorted(PEERS))
def test_the_page_imports_other_shapes_and_serves_them_in_this_session_only(
    page_server, tutorial_weights, real_clips, name
):
    """Bring your own model: a one-sigmoid 10x128x128x3 LRCN and a grayscale ConvLSTM, with the
    class names typed in the page, predict a real clip in this session; the Models tab, the
    Misclassifications tab and the example clips follow; another session keeps the shipped bundle."""
    from har_demo.app.predict_tab import predict_example

    url, demo, registry, _state = page_server
    classes, model, shape = PEERS[name]
    alice, bob = Client(url, verbose=False), Client(url, verbose=False)
    try:
        shipped_banner, shipped_table, shipped_layers = models_banner(alice)
        assert "synthetic" in shipped_banner and len(shipped_layers) == 2

        status = alice.predict(
            [handle_file(str(tutorial_weights / name))], ", ".join(classes), api_name="/studio_import"
        )
        assert f"Serving the imported models for {', '.join(classes)}" in status, status
        *_, result = alice.predict(handle_file(str(real_clips / "v_TaiChi_g01_c02.avi")), api_name="/predict")
        assert result["classes"] == classes and list(result["models"]) == [model]
        probabilities = result["models"][model]["probabilities"]
        assert set(probabilities) == set(classes) and sum(probabilities.values()) == pytest.approx(1, abs=1e-3)
        key = only_key(registry)
        served = registry.get(key)
        settings = served.settings
        assert (settings.frames, settings.height, settings.width, settings.channels) == shape
        predictor = served.predictor  # the fast inference rewrite passed its check on this shape (1 channel too)
        assert predictor._checked and predictor.runners[model] is not predictor.models[model]

        banner, _table, layers = models_banner(alice)  # the Models tab: this session's bundle
        assert "imported from weight files" in banner and name in banner and ", ".join(classes) in banner
        assert "trained on synthetic clips" not in banner, banner
        assert "**Frames:** 10 frames of 128×128" in banner and len(layers) == 1 and "two_class" in layers[0]
        _gallery, message = alice.predict("All models", "All classes", api_name="/misclassified")
        assert "no evaluation report" in message
        verdict, *_rest, answer = predict_example(demo.app_context, str(EXAMPLE), key)  # live, not cached
        assert answer["classes"] == classes and not answer.get("cached_example"), answer

        assert models_banner(bob) == (shipped_banner, shipped_table, shipped_layers)  # the other session
        _gallery, message = bob.predict("All models", "All classes", api_name="/misclassified")
        assert "group split" in message
        *_, theirs = bob.predict(handle_file(str(real_clips / "v_TaiChi_g01_c02.avi")), api_name="/predict")
        assert theirs["classes"] == registry.default.classes
        *_, cached = predict_example(demo.app_context, str(EXAMPLE), None)
        assert cached["classes"] == registry.default.classes and cached["cached_example"]
    finally:
        alice.close()
        bob.close()
        for key in registry.keys():  # the next test starts with no session bundle
            registry.drop(key)


# --------------------------------------------------------------------------- train, Models, push
@pytest.fixture
def loopback_hub(tmp_path, monkeypatch):
    """tests/hub_server.py on 127.0.0.1, the client pointed at it, and NO token in the environment:
    the push must use the token typed in the page."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from hub_server import HubServer

    server = HubServer(tokens={TOKEN: "alice"}).start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield server
    server.stop()
    assert server.unknown == [], server.unknown


def test_train_then_push_from_the_page_with_the_token_nowhere(
    page_server, tiny_clips, loopback_hub, tmp_path, capfd, caplog
):
    """A tiny training in a session; its Models tab shows the studio bundle; Push uploads the
    bundle and its model card to the (loopback) Hub; the repo loads; the token is in no output,
    log line, file of the bundle or file stored on the Hub."""
    from har_demo.loader import load_bundle

    caplog.set_level(logging.DEBUG)
    url, _demo, registry, state = page_server
    client = Client(url, verbose=False)
    try:
        fill(client, tiny_clips)
        progress, _curves, evaluation, *_ = client.predict(["lrcn"], 1, True, api_name="/studio_train")
        assert "This session now serves the new models" in progress and "Held-out evaluation" in evaluation
        banner, table1, layers = models_banner(client)
        assert "trained with `har-demo train`" in banner and "studio" in banner and len(layers) == 1
        assert "LRCN" in table1 and "Pushing, Running, Waving" in banner

        message, token_field = client.predict("alice/studio-run", "", api_name="/studio_push")
        assert "Give the repo id and a write token" in message
        message, token_field = client.predict("alice/studio-run", TOKEN, api_name="/studio_push")
        assert message.startswith("Pushed to **alice/studio-run**") and token_field == "", message
        wrong, _ = client.predict("alice/other", TOKEN[:-1] + "X", api_name="/studio_push")
        assert wrong.startswith("⚠") and TOKEN[:-1] not in wrong, wrong  # refused, and not echoed
    finally:
        client.close()

    stored = loopback_hub.files("alice/studio-run")
    assert "README.md" in stored and b"library_name" in stored["README.md"] and "manifest.json" in stored
    bundle = load_bundle("alice/studio-run")
    assert bundle.classes == sorted(DRAWN) and list(bundle.models) == ["lrcn"]
    assert bundle.report.models["lrcn"].test is not None

    secret = TOKEN.encode()
    everything = [
        data for repo in loopback_hub.repos.values() for c in repo.commits.values() for data in c.files.values()
    ]
    assert everything and not [d for d in everything if secret in d]
    local = [p for p in state.sessions.base.rglob("*") if p.is_file()]
    assert local and not [p for p in local if secret in p.read_bytes()]
    out, err = capfd.readouterr()
    assert TOKEN not in out and TOKEN not in err and TOKEN not in caplog.text


def test_stop_from_the_page_keeps_the_model_trained_so_far(page_server, tiny_clips):
    """Stop during the first model's training: the bundle keeps it as trained so far, the second
    model is never trained, the page says so, and the session serves the kept model."""
    url, _demo, registry, _state = page_server
    client = Client(url, verbose=False)
    try:
        fill(client, tiny_clips)
        job = client.submit(["lrcn", "convlstm"], 30, True, api_name="/studio_train")
        deadline = time.monotonic() + 300
        while not any("epoch 1/30" in (o[0] or "") for o in job.outputs()):
            assert time.monotonic() < deadline and not job.done(), job.outputs()[-1:]
            time.sleep(0.2)
        said = client.predict(api_name="/studio_stop")
        assert "the models trained so far are kept" in said
        progress, *_ = job.result()
        assert "**Stopped.** The bundle keeps LRCN as trained for" in progress, progress
        assert "ConvLSTM was not trained" in progress and "This session now serves" in progress
        epochs = int(progress.split("as trained for ")[1].split(" epoch")[0])
        assert 1 <= epochs < 30
        *_, result = client.predict(handle_file(str(tiny_clips["Waving"][0])), api_name="/predict")
        assert list(result["models"]) == ["lrcn"] and result["classes"] == sorted(DRAWN)
        assert client.predict(api_name="/studio_stop") == "Nothing is training."
    finally:
        client.close()
