"""The Live tab in a real browser with a fake camera: Chromium plays a y4m made from a real clip.

Debian's chromium via Playwright (as tests/test_browser.py); the camera is
`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m` (ffmpeg writes it).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts the app server and a browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def test_webcam_stream_updates_the_bars(tmp_path: Path, real_clips: Path) -> None:
    from har_demo.app.serve import create_demo, launch_options

    camera = tmp_path / "camera.y4m"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(real_clips / "v_HorseRace_g01_c04.avi"),
            "-t",
            "8",
            "-pix_fmt",
            "yuv420p",
            str(camera),
        ],
        check=True,
    )
    demo, engine = create_demo(str(REPO / "weights"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, **launch_options(engine))
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(90_000)
            page.goto(url)
            page.get_by_role("tab", name="Live").click()
            camera_box = page.locator("#live-camera")
            camera_box.get_by_text("Click to Access Webcam").click()
            camera_box.locator("button.capture-button").click(timeout=15_000)  # the webcam's "Record": start streaming
            page.wait_for_function("document.querySelector('#live-stats').innerText.includes('update #')")
            first = page.locator("#live-stats").inner_text()
            page.wait_for_function(
                "t => { const s = document.querySelector('#live-stats').innerText; return s.includes('update #') && s !== t; }",
                arg=first,
            )
            second = page.locator("#live-stats").inner_text()
            assert "updates/s" in second and second != first
            assert page.locator("#live-lrcn").inner_text().strip()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "live_tab.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
