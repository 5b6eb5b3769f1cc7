"""The page in a classroom: every tab in a real browser at 1920x1080 (a projector) and at
390x844 (a phone), with a real clip and a fake camera, and the presenter view of the Live tab.

One app, one Chromium (Debian's, through Playwright; the fake camera plays a y4m made from a real
clip). On every tab it fails on a page wider than the window, on text cut off by its box, and on a
player's label over the video; the annotated videos' drawn labels are checked from the boxes the
painter draws (har_demo.annotate), the subtitles' place from their cue settings. Screenshots of
every tab at both sizes go to test-artifacts/classroom_<size>_<tab>.png for a person to look at:

    PYTHONPATH=. python -m pytest -q -m slow tests/app/test_page_classroom.py
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
import warnings
from pathlib import Path

import pytest

from tests.helpers import fake_camera_args, free_port
from tests.paths import REPO

pytestmark = pytest.mark.slow  # starts the app server and a browser


CHROMIUM = Path(os.environ.get("HAR_DEMO_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts"
SIZES = {
    "projector": dict(viewport={"width": 1920, "height": 1080}),
    "phone": dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=3),
}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

# Text cut off: an element with its own text wider than its box where that box clips (ellipsis, hidden),
# or the text reaching past the nearest ancestor that clips or scrolls it, across or down (tables are
# meant to scroll).
CLIPPED_TEXT = """() => {
  const out = [];
  const clips = (style) => style.overflowX !== 'visible';
  const name = (el) => `${el.tagName}#${el.id}.${String(el.className).slice(0, 40)}: "${el.innerText.slice(0, 50)}"`;
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg, table, .js-plotly-plot, .sr-only, [data-testid="status-tracker"], #live-camera-select')) continue;
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility()) continue;
    const style = getComputedStyle(el);
    if (style.display !== 'inline' && el.clientWidth > 0 && clips(style) && el.scrollWidth > el.clientWidth + 1) {
      out.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
      continue;
    }
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    if (text.width === 0) continue;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const box = up.getBoundingClientRect();
      const across = style.overflowX !== 'visible' && (text.right > box.right + 1 || text.left < box.left - 1);
      const down = style.overflowY !== 'visible' && (text.bottom > box.bottom + 1 || text.top < box.top - 1);
      if (across || down) out.push(`${name(el)} past ${up.tagName}#${up.id}`);
      break;
    }
  }
  return out;
}"""
# A player's label drawn over its video (the annotated videos have their own labels at the top).
LABEL_OVER_VIDEO = """(id) => {
  const block = document.getElementById(id), video = block && block.querySelector('video');
  const label = block && block.querySelector('[data-testid="block-label"]');
  if (!video || !label) return null;
  return label.getBoundingClientRect().bottom - video.getBoundingClientRect().top;
}"""


@pytest.fixture(scope="module")
def camera(tmp_path_factory, real_clips: Path) -> Path:
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    clip = real_clips / "v_HorseRace_g01_c04.avi"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-t", "8", "-pix_fmt", "yuv420p", str(path)], check=True
    )
    return path


@pytest.fixture(scope="module")
def app():
    """The app as app.py starts it with the shipped bundle (and its MCP server), and the warnings its start gave."""
    from har_demo.app.serve import create_demo, launch_options

    with warnings.catch_warnings(record=True) as caught:
        demo, engine = create_demo(str(REPO / "weights"))
        port = free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options(engine))
    demo.start_warnings = [str(w.message) for w in caught]
    demo.url = f"http://127.0.0.1:{port}/"
    try:
        yield demo
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser(camera: Path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=fake_camera_args(camera))
        try:
            yield browser
        finally:
            browser.close()


def check_layout(page, where: str) -> None:
    """No sideways scroll, no text cut off by its box; a screenshot for a person."""
    page.wait_for_timeout(300)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    # a phone widens its layout viewport (innerWidth) to fit what is too wide: both must stay the screen's
    assert width[0] <= width[1] == page.viewport_size["width"], f"{where}: the page is wider than the window {width}"
    clipped = page.evaluate(CLIPPED_TEXT)
    assert not clipped, f"{where}: text cut off by its box: {clipped}"
    page.screenshot(path=str(ARTIFACTS / f"classroom_{where}.png"), full_page=True)


def check_annotated_player(page, element_id: str, where: str) -> dict:
    """The player's label is above the video, and the drawn labels, bars, strip and subtitles do not overlap."""
    page.wait_for_function(f"document.querySelector('#{element_id} video')?.videoWidth > 0")
    assert page.evaluate(LABEL_OVER_VIDEO, element_id) <= 0, f"{where}: the player's label covers the video"
    page.wait_for_function(f"document.querySelector('#{element_id} video').textTracks[0]?.cues?.length > 0")
    track = page.evaluate(
        f"""() => {{ const v = document.querySelector('#{element_id} video');
        const cue = v.textTracks[0] && v.textTracks[0].cues && v.textTracks[0].cues[0];
        return {{ size: [v.videoWidth, v.videoHeight], tracks: v.textTracks.length,
                 line: cue ? cue.line : null }}; }}"""
    )
    return track


def boxes_overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_drawn_labels(timeline, size, clip: Path, where: str) -> None:
    """Every drawn box at every window's time: none overlaps another; the subtitles fit between them."""
    from har_demo.annotate import SUBTITLE_TOP, _Painter
    from har_demo.truth import truth_of

    painter = _Painter(timeline, tuple(size), truth_of(clip, timeline.classes, timeline.duration))
    subtitle_top = SUBTITLE_TOP * size[1]
    for t in list(timeline.centers) + [0.0, timeline.duration]:
        boxes = painter.layout(float(t))
        for i, (name_a, a, _) in enumerate(boxes):
            for name_b, b, _ in boxes[i + 1 :]:
                assert not boxes_overlap(a, b), f"{where}: '{name_a}' {a} overlaps '{name_b}' {b} at {t:.1f} s"
        strip = next(box for name, box, _ in boxes if name == "strip")
        text_bottom = max(box[3] for name, box, _ in boxes if name not in ("strip",))
        # two lines of subtitles (about 5% of the height each in Chromium) fit between the panel and the strip
        assert text_bottom < subtitle_top and subtitle_top + 0.12 * size[1] < strip[1], (where, boxes)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_tab_fits_at_projector_and_phone_size(browser, app, real_clips: Path, size: str) -> None:
    from har_demo.annotate import SUBTITLE_TOP, timeline_from_dict

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(app.url)

    # Predict: a real clip, its annotated copy to take away, what the models looked at (with a colour legend)
    page.locator("#video input[type=file]").set_input_files(str(real_clips / "v_TaiChi_g01_c02.avi"))
    page.wait_for_function("document.querySelectorAll('#frames img').length === 20")
    page.wait_for_function("document.querySelector('#video video')?.src.includes('.preview-')")
    page.locator("#clip-annotate").get_by_text("The clip with its answers drawn in").click()
    page.locator("#clip-annotate-button").click()
    track = check_annotated_player(page, "clip-annotated-video", f"{size}_predict")
    assert track["tracks"] == 1 and track["line"] == pytest.approx(100 * SUBTITLE_TOP)
    page.locator("#explain").get_by_text("What did the models look at?").click()
    page.locator("#explain-button").click()
    page.wait_for_selector("#cam-1 img")  # the second slot: LRCN in the shipped bundle
    note = page.locator("#explain-note").inner_text()
    assert "below zero" in note and page.locator("#cam-legend-bar").is_visible()
    check_layout(page, f"{size}_predict")
    page.locator("#examples").get_by_text("TaiChi", exact=True).click()  # a WebM example plays as H.264 mp4
    page.wait_for_function(
        "(v => v && v.src.includes('synthetic_TaiChi.preview-') && v.src.endsWith('.mp4'))(document.querySelector('#video video'))"
    )

    # Live: the fake camera streams; the presenter view shows camera and verdict together, large
    page.get_by_role("tab", name="Live").click()
    page.locator("#live-camera").get_by_text("Click to Access Webcam").click()
    page.locator("#live-camera button.capture-button").click(timeout=15_000)
    page.wait_for_function("document.querySelector('#live-stats').innerText.includes('update #')")
    check_layout(page, f"{size}_live")
    page.locator("#live-present").click()
    page.wait_for_function("document.querySelector('#live-stage').classList.contains('har-present')")
    page.wait_for_function("document.querySelector('#live-stats').innerText.includes('updates/s')")
    boxes = page.evaluate(
        """() => Object.fromEntries(['live-camera', 'live-verdict', 'live-bars', 'live-stats'].map((id) => {
             const r = document.getElementById(id).getBoundingClientRect();
             return [id, [r.left, r.top, r.right, r.bottom]]; }))"""
    )
    headline = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#live-verdict h3')).fontSize)")
    height, width = SIZES[size]["viewport"]["height"], SIZES[size]["viewport"]["width"]
    camera, verdict = boxes["live-camera"], boxes["live-verdict"]
    for i, a in enumerate(list(boxes)):  # nothing drawn over anything else
        for b in list(boxes)[i + 1 :]:
            assert not boxes_overlap(boxes[a], boxes[b]), (a, b, boxes)
    for name in ("live-camera", "live-verdict"):  # both seen at once, without scrolling
        left, top, right, bottom = boxes[name]
        assert 0 <= left and right <= width and 0 <= top and top + 0.5 * (bottom - top) <= height, (name, boxes)
    if size == "projector":
        assert verdict[0] >= camera[2] and headline >= 48, (boxes, headline)  # beside the camera, read from the back
    else:
        assert verdict[3] <= camera[1] + 1 and headline >= 24, (boxes, headline)  # above the camera
    check_layout(page, f"{size}_presenter")
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('#live-stage').classList.contains('har-present')")

    # Timeline: a real clip; its own player gets the segments as subtitles; the annotated video
    page.get_by_role("tab", name="Timeline").click()
    page.locator("#long-video input[type=file]").set_input_files(str(real_clips / "v_Swing_g01_c05.avi"))
    page.wait_for_function("document.querySelector('#long-video video')?.src.includes('.preview-')")
    page.locator("#run-timeline").click()
    page.wait_for_function("document.querySelectorAll('#downloads a').length >= 2")
    page.wait_for_function("document.querySelector('#long-video video')?.textTracks.length > 0")
    track = check_annotated_player(page, "long-video", f"{size}_timeline")
    assert track["line"] == pytest.approx(100 * SUBTITLE_TOP)
    page.locator("#annotate").get_by_text("The video and its timeline together").click()
    page.locator("#annotate-button").click()
    track = check_annotated_player(page, "annotated-video", f"{size}_timeline_annotated")
    json_url = page.evaluate(
        "Array.from(document.querySelectorAll('#downloads a')).map((a) => a.href).find((h) => h.endsWith('.json'))"
    )
    with urllib.request.urlopen(json_url, timeout=30) as response:
        timeline = timeline_from_dict(json.loads(response.read()))
    check_drawn_labels(timeline, track["size"], real_clips / "v_Swing_g01_c05.avi", f"{size}_timeline_annotated")
    check_layout(page, f"{size}_timeline")

    # the other tabs, as they open
    for tab, ready in (
        ("Misclassifications", "#misclassified img"),
        ("Models", "#table1 table"),
        ("Train", "#studio-train"),
    ):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector(ready)
        check_layout(page, f"{size}_{tab.lower()}")
    words = page.evaluate("document.body.innerText")
    assert "-split" not in words and "lrcn:" not in words.lower()
    context.close()


def test_assistants_see_only_the_five_tools(app) -> None:
    """The MCP schema: predict_video, timeline, explain, annotate, rejudge, each saying what it returns;
    no Gradio warning at start about a tool with a gr.State input."""
    with urllib.request.urlopen(app.url + "gradio_api/mcp/schema", timeout=30) as response:
        tools = {tool["name"]: tool for tool in json.loads(response.read())}
    assert sorted(tools) == sorted(["predict_video", "timeline", "explain", "annotate", "rejudge"])
    for name, tool in tools.items():
        assert "return" in tool["description"].lower(), (name, tool["description"])
    assert not [w for w in app.start_warnings if "gr.State" in w], app.start_warnings
