"""A real browser on the real page: Debian's chromium driven by Playwright (no browser download).

Uploads a real UCF50 clip, waits for the probability bars and the 20-frame gallery, checks what
the page says, clicks a synthetic example, visits the other tabs, and saves screenshots (desktop
and phone widths) under test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.paths import ARTIFACTS

pytestmark = pytest.mark.slow  # starts the app server (and a browser)

CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url, width, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#video")
    return page


def wait_for_result(page):
    page.wait_for_function("document.querySelectorAll('#frames img').length === 20")
    page.wait_for_selector("#bars .main-svg", state="attached")
    # a new answer changes the images' addresses: wait until every one has loaded (a browser keeps
    # showing the previous image until the new one is decoded)
    # (lazy images below the window load only when scrolled to)
    page.locator("#frames").scroll_into_view_if_needed()
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#frames img')).every((i) =>"
        " (i.complete && i.naturalWidth > 0) || i.getBoundingClientRect().top > window.innerHeight)"
    )


def test_upload_a_real_clip_and_see_what_both_models_see(browser, app_server, real_clips):
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page(browser, app_server.url, 1400)
    page.locator("#video input[type=file]").set_input_files(str(real_clips / "v_TaiChi_g01_c02.avi"))
    wait_for_result(page)
    assert "Both models say TaiChi" in page.locator("#verdict").inner_text()
    captions = page.locator("#frames .caption-label").all_inner_texts()
    assert len(captions) == 20 and captions[-1] == "frame 152 · 6.08 s"
    bars = page.locator("#bars").inner_text()
    assert "ConvLSTM: TaiChi" in bars and "LRCN: TaiChi" in bars and "★" in bars
    info = page.locator("#info").inner_text()
    assert "Time:" in info and "Device:" in info and "320×240" in info
    # browsers cannot play XVID: the player gets an H.264 preview, and no error toast stays up
    page.wait_for_function("document.querySelector('#video video')?.src.includes('.preview-')")
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="toast-body"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "predict_desktop.png"), full_page=True)

    # a synthetic example, one click away
    page.locator("#examples").get_by_text("HorseRace", exact=True).click()
    page.wait_for_function("document.querySelector('#info').innerText.includes('synthetic_HorseRace.webm')")
    wait_for_result(page)
    page.screenshot(path=str(ARTIFACTS / "example_desktop.png"), full_page=True)

    # the other tabs
    page.get_by_role("tab", name="Misclassifications").click()
    page.wait_for_selector("#misclassified img")
    assert "group split" in page.locator("#misclassified-message").inner_text()
    page.screenshot(path=str(ARTIFACTS / "misclassified_desktop.png"), full_page=True)
    page.get_by_role("tab", name="Models").click()
    page.wait_for_selector("#table1 table")
    table = page.locator("#table1").inner_text()
    assert "ConvLSTM" in table and "LRCN" in table and "group split" in table
    assert "synthetic" in page.locator("#provenance").inner_text()
    page.screenshot(path=str(ARTIFACTS / "models_desktop.png"), full_page=True)
    page.close()


def test_phone_width_reads_without_sideways_scrolling(browser, app_server, real_clips):
    page = open_page(browser, app_server.url, 400)
    page.locator("#video input[type=file]").set_input_files(str(real_clips / "v_Swing_g01_c05.avi"))
    wait_for_result(page)
    assert "Swing" in page.locator("#verdict").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.screenshot(path=str(ARTIFACTS / "predict_phone.png"), full_page=True)
    page.get_by_role("tab", name="Models").click()
    page.wait_for_selector("#table1 table")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.close()


LABEL_COVERS_FIRST_ROW = """() => {
  const covers = Array.from(document.querySelectorAll(
    '#frames [data-testid="block-label"], #frames .grid-wrap > .icon-button-wrapper'));
  const images = Array.from(document.querySelectorAll('#frames .thumbnail-item img'));
  if (!covers.length || !images.length) return null;
  const top = Math.min(...images.map((i) => i.getBoundingClientRect().top));
  const firstRow = images.filter((i) => i.getBoundingClientRect().top < top + 5);
  return covers.some((c) => {
    const a = c.getBoundingClientRect();
    if (!(a.width > 0 && a.height > 0)) return false;
    return firstRow.some((i) => {
      const b = i.getBoundingClientRect();
      return a.bottom > b.top + 1 && a.top < b.bottom && a.right > b.left && a.left < b.right;
    });
  });
}"""


def test_clearing_the_video_clears_the_results_and_examples_say_cached(browser, app_server, real_clips):
    """The label badge leaves the frames visible; clearing the video leaves nothing of the
    previous clip; an example's cached answer is shown as cached, not with its first run's time."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page(browser, app_server.url, 1400)
    page.locator("#video input[type=file]").set_input_files(str(real_clips / "v_TaiChi_g01_c02.avi"))
    wait_for_result(page)
    assert page.evaluate(LABEL_COVERS_FIRST_ROW) is False
    page.locator("#frames").screenshot(path=str(ARTIFACTS / "frames_label.png"))

    page.locator("#video").get_by_label("Clear").first.click()
    page.wait_for_function("document.querySelectorAll('#frames img').length === 0")
    page.wait_for_function("document.querySelector('#verdict').innerText.includes('Upload a video')")
    assert "TaiChi" not in page.locator("#verdict").inner_text()
    assert "v_TaiChi_g01_c02.avi" not in page.locator("#info").inner_text()
    assert page.locator("#bars .main-svg").count() == 0

    for name in ("HorseRace", "Swing"):
        page.locator("#examples").get_by_text(name, exact=True).click()
        page.wait_for_function(f"document.querySelector('#info').innerText.includes('synthetic_{name}.webm')")
        wait_for_result(page)
        info = page.locator("#info").inner_text()
        assert "cached example" in info and "without running the models" in info, info
    page.screenshot(path=str(ARTIFACTS / "example_cached_desktop.png"), full_page=True)
    page.close()
