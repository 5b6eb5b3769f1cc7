"""Recording several people in a real browser: clips in a row, Next person, the banner and people per class.

Debian's chromium via Playwright with a fake camera (as tests/app/test_studio_browser.py). One press
of Record with "clips in a row" at 2 records two clips without another click; Next person moves
the group on, the banner names class and person, and the counts line says how many people.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from har_demo.training.synth import render_clip, write_video
from tests.helpers import fake_camera_args

pytestmark = pytest.mark.slow  # a server and a browser

CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


SEEN_JS = """() => {
  window.__countdownSeen = [];
  const el = document.querySelector('#studio-countdown-text');
  new MutationObserver(() => window.__countdownSeen.push(el.textContent)).observe(
    el, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def camera(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("people-camera")
    source = folder / "camera.avi"
    write_video(source, render_clip("TaiChi", np.random.default_rng(4), width=320, height=240, seconds=4.0), fps=30)
    y4m = folder / "camera.y4m"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-pix_fmt", "yuv420p", "-r", "30", str(y4m)], check=True
    )
    return y4m


@pytest.fixture(scope="module")
def studio_url(engine, tmp_path_factory):
    import har_demo.app.studio_tab as studio_tab
    from har_demo.app import EngineRegistry, build_demo
    from har_demo.app.serve import launch_options
    from har_demo.studio.limits import StudioLimits
    from tests.helpers import free_port

    state = studio_tab.StudioState(StudioLimits(max_clip_seconds=5), base=tmp_path_factory.mktemp("people-sessions"))
    original = studio_tab.StudioState
    studio_tab.StudioState = lambda *a, **k: state
    try:
        demo = build_demo(EngineRegistry(engine), tabs=("predict", "studio"))
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


def test_two_clips_in_a_row_then_next_person(studio_url, camera):
    url, state = studio_url
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=fake_camera_args(camera))
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(90_000)
            page.goto(url)
            page.get_by_role("tab", name="Train").click()
            page.wait_for_timeout(1000)
            page.locator("#studio-new-class textarea, #studio-new-class input").first.fill("Waving")
            page.locator("#studio-add-class").click()
            page.wait_for_function("document.querySelector('#studio-counts').innerText.includes('Waving')")
            page.wait_for_function("document.querySelector('#studio-banner').innerText.includes('Recording: Waving')")
            assert "person (group) 1" in page.locator("#studio-banner").inner_text()
            page.locator("#studio-seconds input[type=number]").fill("2")
            page.locator("#studio-seconds input[type=number]").press("Tab")
            page.locator("#studio-in-a-row input[type=number]").fill("2")
            page.locator("#studio-in-a-row input[type=number]").press("Tab")
            page.evaluate(SEEN_JS)  # every text the countdown shows (one lasts a second: polling could miss it)
            page.locator("#studio-record").click()  # one press, two takes
            page.wait_for_function("window.__countdownSeen.includes('Clip 2 of 2')")
            page.wait_for_function(
                "document.querySelector('#studio-counts').innerText.includes('Waving: 2 clips, 1 person')"
            )
            recorded = sorted(p.name.split(".")[0] for p in state.sessions.base.glob("*/studio/Waving/*"))
            assert recorded == ["v_Waving_g01_c01", "v_Waving_g01_c02"]
            assert "one person only" in page.locator("#studio-counts").inner_text()  # the warning
            page.wait_for_function("document.querySelector('#studio-countdown-text')?.innerText === ''")

            page.locator("#studio-next-person").click()
            page.wait_for_function("document.querySelector('#studio-group input').value === '2'")
            page.wait_for_function("document.querySelector('#studio-banner').innerText.includes('person (group) 2')")
            page.locator("#studio-record").click()
            page.wait_for_function(
                "document.querySelector('#studio-counts').innerText.includes('Waving: 3 clips, 2 people')"
            )
            assert "one person only" not in page.locator("#studio-counts").inner_text()
        finally:
            browser.close()
