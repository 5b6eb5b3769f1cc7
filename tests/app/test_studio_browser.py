"""The Train tab in a real browser with a fake camera: record, upload, train, see the curves, predict.

Debian's chromium via Playwright (as tests/app/test_browser.py). The camera plays a y4m that ffmpeg
made from a synthetic clip (`--use-file-for-fake-video-capture`); Chromium takes one such file per
launch, so one class is recorded with the camera (the page's 3-2-1 countdown, then a fixed-length
recording it stops itself) and the others are uploaded as files. One model (LRCN), one epoch.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from har_demo.training.synth import render_clip, write_video
from tests.helpers import fake_camera_args
from tests.paths import REPO

pytestmark = pytest.mark.slow  # a server, a browser, a training


CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"
RECORDED, UPLOADED = "Waving", ("Pushing", "Running")
DRAWN = {"Waving": "TaiChi", "Pushing": "Swing", "Running": "HorseRace"}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def frames_and_fps(path: Path) -> tuple[int, float]:
    import cv2

    cap, n = cv2.VideoCapture(str(path)), 0
    fps = cap.get(cv2.CAP_PROP_FPS)
    while cap.read()[0]:
        n += 1
    cap.release()
    return n, fps


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("browser-clips")
    rng = np.random.default_rng(21)
    made = {}
    for label in UPLOADED:
        made[label] = []
        for i in range(2):
            path = folder / f"{label}_{i}.webm"
            write_video(path, render_clip(DRAWN[label], rng, width=160, height=120, seconds=1.0))
            made[label].append(path)
    camera_source = folder / "camera.avi"
    write_video(camera_source, render_clip(DRAWN[RECORDED], rng, width=320, height=240, seconds=4.0), fps=30)
    camera = folder / "camera.y4m"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(camera_source), "-pix_fmt", "yuv420p", "-r", "30", str(camera)],
        check=True,
    )
    made["camera"] = [camera]
    return made


@pytest.fixture(scope="module")
def studio_page(engine, tmp_path_factory):
    import har_demo.app.studio_tab as studio_tab
    from har_demo.app import EngineRegistry, build_demo
    from har_demo.app.serve import launch_options
    from har_demo.studio.limits import StudioLimits
    from tests.helpers import free_port

    state = studio_tab.StudioState(StudioLimits(max_clip_seconds=5), base=tmp_path_factory.mktemp("browser-sessions"))
    original = studio_tab.StudioState
    studio_tab.StudioState = lambda *a, **k: state
    try:
        demo = build_demo(EngineRegistry(engine), tabs=("predict", "models", "studio"))
    finally:
        studio_tab.StudioState = original
    demo.queue(default_concurrency_limit=4)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options(engine)
    )
    try:
        yield f"http://127.0.0.1:{port}/", state
    finally:
        demo.close()


def counts_text(page) -> str:
    return page.locator("#studio-counts").inner_text()


def test_record_with_a_countdown_upload_train_and_predict(studio_page, clips):
    url, state = studio_page
    args = fake_camera_args(clips["camera"][0])
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(90_000)
            page.goto(url)
            page.get_by_role("tab", name="Train").click()
            page.wait_for_timeout(1000)
            tab_names = [tab.inner_text() for tab in page.get_by_role("tab").all()]
            assert tab_names == ["Predict", "Models", "Train"], tab_names  # once showed "Train" twice

            def add_class(name: str) -> None:
                page.locator("#studio-new-class textarea, #studio-new-class input").first.fill(name)
                page.locator("#studio-add-class").click()
                page.wait_for_function(f"document.querySelector('#studio-counts').innerText.includes('{name}')")

            def set_group(group: int) -> None:
                box = page.locator("#studio-group input")
                box.fill(str(group))
                box.press("Tab")

            add_class(RECORDED)
            page.locator("#studio-seconds input[type=number]").fill("2")
            page.locator("#studio-seconds input[type=number]").press("Tab")
            for group, shown in ((1, "1 clip"), (2, "2 clips")):
                set_group(group)
                page.locator("#studio-record").click()
                page.wait_for_function("document.querySelector('#studio-countdown-text')?.innerText === '3'")
                page.wait_for_function("document.querySelector('#studio-countdown-text')?.innerText === '1'")
                page.wait_for_function(
                    "document.querySelector('#studio-countdown-text')?.innerText.includes('Recording')"
                )
                if group == 1:
                    ARTIFACTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / "studio_recording.png"))
                page.wait_for_function(
                    f"document.querySelector('#studio-counts').innerText.includes('{RECORDED}: {shown}')"
                )
                page.wait_for_function("document.querySelector('#studio-countdown-text')?.innerText === ''")

            recorded = sorted(state.sessions.base.glob(f"*/studio/{RECORDED}/*"))
            assert [p.name.split(".")[0] for p in recorded] == [f"v_{RECORDED}_g01_c01", f"v_{RECORDED}_g02_c01"]
            for path in recorded:  # the page stopped the recorder after 2 s (+ margin); cut to 2 s
                n, fps = frames_and_fps(path)
                assert n / fps == pytest.approx(2.0, abs=0.1), (path.name, n, fps)

            for label in UPLOADED:
                add_class(label)
                for group, path in enumerate(clips[label], start=1):
                    set_group(group)
                    page.locator("#studio-uploads input[type=file]").set_input_files(str(path))
                    page.wait_for_function("document.querySelector('#studio-uploads').innerText.includes('.webm')")
                    page.locator("#studio-add-uploads").click()
                    page.wait_for_function(
                        f"document.querySelector('#studio-counts').innerText.includes('{label}: {group} clip')"
                    )
            assert page.locator("#studio-status").inner_text().startswith("Added 1 clip")

            page.locator("#studio-models").get_by_text("ConvLSTM").click()  # one model: LRCN
            page.locator("#studio-epochs input[type=number]").fill("1")
            page.locator("#studio-epochs input[type=number]").press("Tab")
            page.locator("#studio-train").click()
            page.wait_for_function(
                "document.querySelector('#studio-progress').innerText.includes('This session now serves')",
                timeout=300_000,
            )
            page.wait_for_selector("#studio-curves .main-svg", state="attached")
            evaluation = page.locator("#studio-evaluation").inner_text()
            assert "Held-out evaluation" in evaluation and "LRCN" in evaluation and "ConvLSTM" not in evaluation
            page.screenshot(path=str(ARTIFACTS / "studio_trained.png"), full_page=True)
            # the top of the page describes this session's bundle now, without the synthetic warning
            page.wait_for_function(
                "document.querySelector('#header').innerText.includes('3 classes: Pushing, Running, Waving')"
            )
            assert not page.locator("#synthetic-banner").is_visible()

            page.get_by_role("tab", name="Predict").click()
            page.locator("#video input[type=file]").set_input_files(str(clips["Running"][0]))
            page.wait_for_function("document.querySelectorAll('#frames img').length === 20")
            verdict = page.locator("#verdict").inner_text()
            assert any(name in verdict for name in DRAWN), verdict
            assert "TaiChi" not in verdict and "HorseRace" not in verdict  # not the shipped bundle's classes
            page.screenshot(path=str(ARTIFACTS / "studio_predict.png"), full_page=True)

            page.get_by_role("tab", name="Models").click()
            page.wait_for_function(
                "document.querySelector('#provenance').innerText.includes('Pushing, Running, Waving')"
            )
        finally:
            browser.close()
