"""The Live tab in a real browser with a fake camera: Chromium plays a y4m made from a real clip.

Debian's chromium via Playwright (as tests/app/test_browser.py); the camera is
`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m` (ffmpeg writes it).
A desktop window, and a phone (390x844, touch, 3x pixels) with the tab's camera picker.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import fake_camera_args
from tests.paths import REPO

pytestmark = pytest.mark.slow  # starts the app server and a browser


CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=3)
STATS_CHANGED = (
    "t => { const s = document.querySelector('#live-stats').innerText; return s.includes('update #') && s !== t; }"
)

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def camera(tmp_path_factory, real_clips: Path) -> Path:
    """The fake camera's video: 8 s of a real clip as y4m."""
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    clip = real_clips / "v_HorseRace_g01_c04.avi"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-t", "8", "-pix_fmt", "yuv420p", str(path)], check=True
    )
    return path


@pytest.fixture(scope="module")
def live_url():
    """The app with the shipped bundle, launched on a local port."""
    from har_demo.app.serve import create_demo, launch_options

    demo, engine = create_demo(str(REPO / "weights"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, **launch_options(engine))
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture
def browser(camera: Path):
    args = fake_camera_args(camera)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield browser
        finally:
            browser.close()


def start_streaming(page, url: str, tap: bool = False) -> None:
    page.set_default_timeout(90_000)
    page.goto(url)
    press = (lambda loc, **kw: loc.tap(**kw)) if tap else (lambda loc, **kw: loc.click(**kw))
    press(page.get_by_role("tab", name="Live"))
    camera_box = page.locator("#live-camera")
    press(camera_box.get_by_text("Click to Access Webcam"))
    press(camera_box.locator("button.capture-button"), timeout=15_000)  # the webcam's "Record": start streaming
    page.wait_for_function("document.querySelector('#live-stats').innerText.includes('update #')")


def next_stats(page) -> str:
    """Wait for the next update of the numbers and return them."""
    page.wait_for_function(STATS_CHANGED, arg=page.locator("#live-stats").inner_text())
    return page.locator("#live-stats").inner_text()


def wait_for_camera(page, value: str) -> None:
    """Wait until the camera picker has switched the stream to `value` (its option's value)."""
    page.wait_for_function("v => document.querySelector('#live-camera video').dataset.camera === v", arg=value)


def test_webcam_stream_updates_the_bars(browser, live_url: str) -> None:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    start_streaming(page, live_url)
    first = page.locator("#live-stats").inner_text()
    second = next_stats(page)
    assert "updates/s" in second and second != first
    assert page.locator("#live-lrcn").inner_text().strip()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live_tab.png"), full_page=True)


def test_live_tab_on_a_phone_front_and_back_camera(browser, live_url: str, camera: Path) -> None:
    """Works on a phone. The stream starts with touches, the numbers update, nothing
    is wider than the screen, the camera picker lists the (fake) camera, and switching to the back
    camera keeps the stream going with an unmirrored preview (the front camera's is mirrored)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    start_streaming(page, live_url, tap=True)
    video = page.locator("#live-camera video")
    wait_for_camera(page, "facing:user")
    assert video.get_attribute("data-mirrored") == "true"  # front camera by default: a selfie preview
    first = next_stats(page)
    assert "updates/s" in first and page.locator("#live-lrcn").inner_text().strip()
    picker = page.locator("#live-camera-select")
    page.wait_for_function("document.querySelectorAll('#live-camera-select option[value^=\"device:\"]').length > 0")
    options = picker.locator("option").all_inner_texts()
    assert options[:2] == ["Front camera (selfie, mirrored)", "Back camera"]
    assert any(camera.name in o for o in options[2:]), options  # the browser's cameras, by their names
    assert not page.locator("#live-camera .device-select-button").is_visible()  # one camera choice, not two

    picker.select_option(label="Back camera")
    wait_for_camera(page, "facing:environment")
    assert video.get_attribute("data-mirrored") == "false"
    assert video.evaluate("v => v.srcObject.harPicked && v.srcObject.active")
    after_switch = next_stats(page)
    assert "updates/s" in after_switch and after_switch != first  # the stream goes on with the new camera
    picker.select_option(index=2)  # the fake camera by name: not known to face the user, so not mirrored
    wait_for_camera(page, picker.input_value())
    assert picker.input_value().startswith("device:") and video.get_attribute("data-mirrored") == "false"
    next_stats(page)

    # A camera that cannot start (gone since it was listed): one sentence, the choice goes back, the stream goes on.
    picker.evaluate("s => s.add(new Option('Unplugged camera', 'device:no-such-camera'))")
    chosen = picker.input_value()
    picker.select_option(label="Unplugged camera")
    page.wait_for_function("document.querySelector('#live-camera-note').innerText.includes('could not be started')")
    assert picker.input_value() == chosen
    assert "the stream goes on" in page.locator("#live-camera-note").inner_text()
    next_stats(page)

    # A phone widens its layout viewport (innerWidth) to content wider than the screen: both must stay 390.
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1] == PHONE["viewport"]["width"], f"the page is wider than the phone: {overflow}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live_tab_phone.png"), full_page=True)
    print(f"\nphone 390x844: scrollWidth {overflow[0]} <= innerWidth {overflow[1]}; {after_switch!r}")
    context.close()
