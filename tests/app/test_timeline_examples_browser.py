"""The Timeline tab's examples play as H.264 mp4, like the Predict tab's (Safari and iOS play no WebM).

A real app on the shipped bundle and Debian's chromium: click each kind of Timeline example and
wait for the player to hold the H.264 preview, while the models still see the WebM original.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.paths import REPO

pytestmark = pytest.mark.slow  # starts the app server and a browser

CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

PLAYS_PREVIEW = (
    "(stem => (v => v && v.src.includes(stem + '.preview-') && v.src.endsWith('.mp4'))"
    "(document.querySelector('#long-video video')))"
)


@pytest.fixture(scope="module")
def app():
    from har_demo.app.serve import create_demo, launch_options

    demo, engine = create_demo(str(REPO / "weights"))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options(engine))
    demo.url = f"http://127.0.0.1:{port}/"
    try:
        yield demo
    finally:
        demo.close()


def test_timeline_examples_are_previewed_as_h264(app) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(90_000)
            page.goto(app.url)
            page.get_by_role("tab", name="Timeline").click()
            page.locator("#timeline-class-examples").get_by_text("TaiChi", exact=True).click()
            page.wait_for_function(PLAYS_PREVIEW + "('synthetic_TaiChi')")
            page.locator("#timeline-examples").get_by_text("four activities, 16 s").click()
            page.wait_for_function(PLAYS_PREVIEW + "('synthetic_mixed_activities')")
        finally:
            browser.close()
