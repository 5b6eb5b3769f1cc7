"""The Train tab through gradio_client: classes, uploads, training, the session's own bundle, zips.

A real server on 127.0.0.1 (the Predict and Train tabs), real synthetic video files, real Keras
training (2 epochs of LRCN; then 1 of each model, LRCN served first), and two browser sessions
(two Clients) that never see each other's bundle.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from tests.helpers import STUDIO_DRAWN, studio_clips_in

DRAWN = STUDIO_DRAWN


@pytest.fixture(scope="module")
def studio_clips(tmp_path_factory) -> dict[str, list[Path]]:
    return studio_clips_in(tmp_path_factory.mktemp("studio-clips"), per_class=4, seed=5, width=160, height=120)


@pytest.fixture(scope="module")
def studio_server(engine, tmp_path_factory):
    from har_demo.app import EngineRegistry, build_demo
    from har_demo.app.studio_tab import StudioState
    from har_demo.studio.limits import StudioLimits
    from tests.helpers import free_port

    registry = EngineRegistry(engine)
    state = StudioState(StudioLimits(max_clip_seconds=5), base=tmp_path_factory.mktemp("studio-sessions"))
    import har_demo.app.studio_tab as studio_tab

    original = studio_tab.StudioState
    studio_tab.StudioState = lambda *a, **k: state  # the tab builds with this test's folder and limits
    try:
        demo = build_demo(registry, tabs=("predict", "studio"))
    finally:
        studio_tab.StudioState = original
    demo.queue(default_concurrency_limit=4)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", registry, state
    finally:
        demo.close()


def fill(client: Client, clips: dict[str, list[Path]], groups=(1, 1, 2, 2)) -> str:
    for label, paths in clips.items():
        client.predict(label, api_name="/studio_add_class")
        for group in sorted(set(groups)):
            chosen = [handle_file(str(p)) for p, g in zip(paths, groups) if g == group]
            status, counts, *_ = client.predict(label, group, chosen, api_name="/studio_upload")
            assert "Added" in status, status
    return counts


@pytest.mark.slow
def test_a_session_trains_serves_downloads_and_another_session_keeps_its_own(studio_server, studio_clips, real_clips):
    url, registry, state = studio_server
    alice, bob = Client(url, verbose=False), Client(url, verbose=False)
    try:
        counts = fill(alice, studio_clips)
        assert counts == " · ".join(f"**{c}**: 4 clips, 2 people" for c in sorted(DRAWN))
        bad = real_clips / "long_mixed_activities.mp4"  # 31 s: over six 5 s clips, this server's limit
        status, *_ = alice.predict("Waving", 3, [handle_file(str(bad))], api_name="/studio_upload")
        assert "long_mixed_activities.mp4 is 31.0 s long" in status and "at most 30 s" in status

        shipped = alice.predict(handle_file(str(studio_clips["Waving"][0])), api_name="/predict")[-1]
        assert shipped["classes"] == list(registry.default.classes)

        progress, curves, evaluation, *_rest, bundle_zip = alice.predict(
            ["lrcn"], 2, False, api_name="/studio_train"
        )  # from random weights: the "Start from the shipped models" box unticked
        assert "This session now serves the new models" in progress, progress
        assert "Held-out evaluation" in evaluation and "LRCN" in evaluation
        bundle_zip = bundle_zip["value"] if isinstance(bundle_zip, dict) else bundle_zip  # an update: shown now
        assert curves is not None and "manifest.json" in zipfile.ZipFile(bundle_zip).namelist()
        manifest = json.loads(zipfile.ZipFile(bundle_zip).read("manifest.json"))
        assert manifest["training"]["init_from"] == ""

        mine = alice.predict(handle_file(str(studio_clips["Waving"][0])), api_name="/predict")[-1]
        assert mine["classes"] == sorted(DRAWN) and list(mine["models"]) == ["lrcn"]
        theirs = bob.predict(handle_file(str(studio_clips["Waving"][0])), api_name="/predict")[-1]
        assert theirs["classes"] == shipped["classes"], "another session keeps the shipped bundle"

        set_zip = alice.predict(api_name="/studio_zip")
        names = sorted(zipfile.ZipFile(set_zip).namelist())
        assert len(names) == 12 and names[0].startswith("Pushing/v_Pushing_g01_c01.")
        status, counts, *_ = bob.predict(handle_file(set_zip), api_name="/studio_zip_upload")
        assert "Imported" in status and counts.count("4 clips") == 3
        bob.predict("Extra", api_name="/studio_add_class")
        extra = [handle_file(str(p)) for p in studio_clips["Running"][:2]]
        bob.predict("Extra", 1, extra[:1], api_name="/studio_upload")
        bob.predict("Extra", 2, extra[1:], api_name="/studio_upload")
        job = bob.submit(["convlstm", "lrcn"], 1, True, api_name="/studio_train")  # both: LRCN is served first
        progress, *_ = job.result()
        assert "This session now serves" in progress, progress
        early = [o for o in job.outputs() if "while the rest train" in o[0]]
        assert early and early[0][0].startswith("LRCN trained in"), [o[0] for o in job.outputs()]
        assert "LRCN" in early[0][2] and "ConvLSTM" not in early[0][2]  # its held-out evaluation, alone
        assert any("starting from the shipped models' weights" in o[0] for o in job.outputs())  # the default
        bobs = bob.predict(handle_file(str(studio_clips["Waving"][0])), api_name="/predict")[-1]
        alices = alice.predict(handle_file(str(studio_clips["Waving"][0])), api_name="/predict")[-1]
        assert bobs["classes"] == sorted([*DRAWN, "Extra"]) and alices["classes"] == sorted(DRAWN)
        assert len(registry) == 2
    finally:
        alice.close()
        bob.close()


@pytest.mark.slow
def test_bad_zips_and_tokens_get_a_sentence(studio_server, tmp_path):
    url, _registry, _state = studio_server
    client = Client(url, verbose=False)
    try:
        evil = tmp_path / "evil.zip"
        with zipfile.ZipFile(evil, "w") as z:
            z.writestr("Waving/../../escape.webm", b"x")
        status, *_ = client.predict(handle_file(str(evil)), api_name="/studio_zip_upload")
        assert "outside its folder" in status and "unchanged" in status
        message, token_field = client.predict("someone/model", "hf_secret_token_value", api_name="/studio_push")
        assert "Train first" in message and token_field == "" and "hf_secret" not in message
    finally:
        client.close()
