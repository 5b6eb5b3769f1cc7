"""Every refusal is a sentence on the page, driven through a real server with gradio_client.

A real app on 127.0.0.1 (Predict and Train tabs) whose memory budget holds one imported bundle,
real tutorial weight files, a tiny .keras that declares 20x1024x1024x3 clips, a lying zip, class
names with HTML in them, a Hub field given server paths; then the trainer's queue, with real
(stopped) trainings of a tiny synthetic set.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from gradio_client import Client, handle_file


@pytest.fixture(scope="module")
def classroom_server(engine, tmp_path_factory):
    from har_demo.app import EngineRegistry, build_demo
    from har_demo.app.engine import engine_bytes
    from har_demo.app.studio_tab import StudioState
    from har_demo.studio.limits import StudioLimits
    from tests.helpers import free_port

    one_session = engine_bytes(engine) * 0.75 / 2**20  # room for one imported LRCN-only bundle, not two
    registry = EngineRegistry(engine, replace(engine.limits, session_models_mb=one_session))
    state = StudioState(StudioLimits(max_clip_seconds=5), base=tmp_path_factory.mktemp("classroom-sessions"))
    import har_demo.app.studio_tab as studio_tab

    original = studio_tab.StudioState
    studio_tab.StudioState = lambda *a, **k: state
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


@pytest.fixture(scope="module")
def huge_input_model(tmp_path_factory) -> Path:
    import keras

    model = keras.Sequential(
        [
            keras.Input((20, 1024, 1024, 3)),
            keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D()),
            keras.layers.LSTM(4),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("huge") / "huge.keras"
    model.save(path)
    return path


def status_of(answer) -> str:
    return answer[1] if isinstance(answer, tuple | list) else answer


@pytest.mark.slow
def test_studio_and_app_refusals_are_sentences(
    classroom_server, huge_input_model, tutorial_weights, tmp_path, real_clips
):
    url, registry, _state = classroom_server
    alice, bob = Client(url, verbose=False), Client(url, verbose=False)
    seed = handle_file(str(tutorial_weights / "seed_lrcn_keras3.h5"))
    try:
        # a model declaring huge clips: refused from its file, nothing loaded
        text = status_of(alice.predict([handle_file(str(huge_input_model))], "a, b", api_name="/studio_import"))
        assert text.startswith("⚠") and "20x1024x1024x3" in text and "not loaded" in text
        # class names with HTML in them
        text = status_of(
            alice.predict(
                [seed], '<a href="https://x.example">Walk</a>, TaiChi, Swing, Horse', api_name="/studio_import"
            )
        )
        assert text.startswith("⚠") and "class name" in text and "<a href" not in text
        # the Hub field given server paths: one sentence whatever exists there
        answers = {ref: status_of(alice.predict(ref, api_name="/studio_hub")) for ref in ("/etc", "/etc/passwd", "~")}
        assert len(set(answers.values())) == 1 and "OWNER/NAME" in answers["/etc"], answers
        # back to the shipped models with none of its own
        assert "already serves the shipped models" in status_of(alice.predict(api_name="/studio_back"))
        # a lying zip, and training with no clips
        lying = tmp_path / "clips.zip"
        lying.write_bytes(b"PK\x03\x04 this is not really a zip" * 10)
        text = alice.predict(handle_file(str(lying)), api_name="/studio_zip_upload")[0]
        assert text.startswith("⚠") and "unchanged" in text
        text = alice.predict(["lrcn"], 1, True, api_name="/studio_train")[0]
        assert text.startswith("⚠") and "at least 2 classes" in text

        # a full server: bob's import evicts alice's models; alice is back on the shipped ones
        from tests.helpers import CLASSES

        names = ", ".join(CLASSES)
        assert "Serving the imported models" in status_of(alice.predict([seed], names, api_name="/studio_import"))
        clip = handle_file(str(real_clips / "v_TaiChi_g01_c02.avi"))
        assert list(alice.predict(clip, api_name="/predict")[-1]["models"]) == ["lrcn"]
        assert "Serving the imported models" in status_of(bob.predict([seed], names, api_name="/studio_import"))
        assert len(registry) == 1
        assert set(alice.predict(clip, api_name="/predict")[-1]["models"]) == {"convlstm", "lrcn"}
        assert "freed for another group" in status_of(bob.predict(api_name="/studio_back"))
        assert len(registry) == 0

        # models that can never fit: a sentence, and nothing was loaded
        registry.limits = replace(registry.limits, session_models_mb=10)
        try:
            text = status_of(alice.predict([seed], names, api_name="/studio_import"))
        finally:
            registry.limits = replace(registry.limits, session_models_mb=engine_mb(registry) * 0.75)
        assert text.startswith("⚠") and "more than the 10 MB" in text and len(registry) == 0
    finally:
        alice.close()
        bob.close()


def engine_mb(registry) -> float:
    from har_demo.app.engine import engine_bytes

    return engine_bytes(registry.default) / 2**20


def bomb_png(path: Path, side: int) -> Path:
    """A valid PNG of side x side black pixels: a few hundred KB on disk, side*side*3 bytes decoded."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * side)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path):
    from PIL import Image

    from har_demo.live import LiveError, refuse_images_over

    bomb = bomb_png(tmp_path / "frame.png", 12000)
    assert bomb.stat().st_size < 1_000_000
    saved = Image.MAX_IMAGE_PIXELS, Image._decompression_bomb_check
    refuse_images_over(4096 * 2160)
    try:
        with pytest.raises(LiveError, match="12000x12000 pixels.*refused before decoding"):
            Image.open(bomb)  # the header alone: nothing is decoded
        small = bomb_png(tmp_path / "small.png", 640)
        assert Image.open(small).size == (640, 640)
    finally:
        Image.MAX_IMAGE_PIXELS, Image._decompression_bomb_check = saved


@pytest.mark.slow
def test_the_training_queue_is_capped_shows_the_wait_and_shares_the_trainer(tmp_path):
    from har_demo.studio.errors import LimitReached
    from har_demo.studio.limits import StudioLimits
    from har_demo.studio.trainer import MIN_SHARE_S, StudioTrainer, TrainOptions
    from tests.helpers import make_set

    trainer = StudioTrainer(StudioLimits(max_queue=2, max_train_seconds=600))
    sets = {name: make_set(tmp_path / name, clips_per_group=1, seed=i) for i, name in enumerate("abc")}
    assert trainer.fair_share_s() == 600
    first = trainer.start("a", sets["a"], TrainOptions(models=("lrcn",), epochs=1))
    second = trainer.start("b", sets["b"], TrainOptions(models=("lrcn",), epochs=1))
    try:
        with pytest.raises(LimitReached, match=r"training queue is full \(2 groups training or waiting"):
            trainer.start("c", sets["c"], TrainOptions(models=("lrcn",), epochs=1))
        assert trainer.fair_share_s() == 300  # one group waits: the one training gets half the host's time
        queued = next(e for e in second.events() if e.kind == "queued")
        assert queued.position == 1 and "number 1 in line, about" in queued.message and "minute" in queued.message
        assert MIN_SHARE_S <= trainer.fair_share_s()
    finally:
        first.stop()
        second.stop()
        first.wait()
        second.wait()


@pytest.mark.slow
def test_closing_the_page_frees_its_models_and_folder_at_once(classroom_server, tutorial_weights):
    """A page's heartbeat stream ending (tab closed) runs the unload event: no hour-long wait."""
    import time

    import httpx

    from tests.helpers import CLASSES

    url, registry, state = classroom_server
    client = Client(url, verbose=False)
    try:
        seed = handle_file(str(tutorial_weights / "seed_lrcn_keras3.h5"))
        with httpx.stream("GET", f"{url}gradio_api/heartbeat/{client.session_hash}", timeout=30) as heartbeat:
            assert heartbeat.status_code == 200  # the page is open
            client.predict("Waving", api_name="/studio_add_class")
            answer = client.predict([seed], ", ".join(CLASSES), api_name="/studio_import")
            assert "Serving the imported models" in status_of(answer)
            folder = state.sessions.base / client.session_hash
            assert len(registry) == 1 and folder.is_dir()
        deadline = time.monotonic() + 30  # the stream is gone: the page was closed
        while (len(registry) or folder.exists()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(registry) == 0 and not folder.exists()
    finally:
        client.close()


@pytest.mark.slow
def test_a_huge_live_frame_gets_a_sentence_and_the_app_stays_small(app_server, tmp_path):
    import base64

    from benchmarks.bench import memory_status
    from benchmarks.live_bench import Viewer

    bomb = bomb_png(tmp_path / "frame.png", 12000)
    frame = "data:image/png;base64," + base64.b64encode(bomb.read_bytes()).decode()
    before = memory_status()["VmRSS"]
    viewer = Viewer(app_server.url)
    viewer.start(frame)
    with pytest.raises(RuntimeError) as failed:
        viewer.answer(timeout=60)
    assert "12000x12000 pixels" in str(failed.value) and "refused before decoding" in str(failed.value)
    assert memory_status()["VmRSS"] - before < 200 * 2**20  # 432 MB if it had been decoded
    viewer.http.close()
