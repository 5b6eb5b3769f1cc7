"""A real browser on the real page: Debian's chromium driven by Playwright (no browser download).

Uploads a real UCF50 clip, waits for the probability bars and the 20-frame gallery, checks what
the page says, clicks a synthetic example, visits the other tabs, and saves screenshots (desktop
and phone widths) under test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.app_fixtures"]
pytestmark = pytest.mark.slow  # starts the app server (and a browser)

CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
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


def test_upload_a_real_clip_and_see_what_both_models_see(browser, app_server, real_clips):
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page(browser, app_server.url, 1400)
    page.locator("#video input[type=file]").set_input_files(str(real_clips / "v_TaiChi_g01_c02.avi"))
    wait_for_result(page)
    assert "Both models: TaiChi" in page.locator("#verdict").inner_text()
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
