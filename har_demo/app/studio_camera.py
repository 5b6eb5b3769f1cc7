"""The studio's webcam recording: a 3-2-1 countdown, then a fixed-length clip, stopped by the page.

Gradio's webcam video has one button that starts and stops a browser MediaRecorder
(`button.capture-button` inside the component); it has no time limit of its own. The page's
"Record a clip" button runs `RECORD_JS` in the browser (no server round trip): it opens the
camera if needed, counts 3-2-1 in large type, presses the webcam's record button, and presses it
again after the chosen length plus a small margin; with "clips in a row" above 1 it then waits for
the clip to be added (the recorded preview is cleared by the server) and counts down the next
one, so a person records several takes without touching the page. Pressing the webcam's own record button
schedules the same automatic stop (`AUTO_STOP_JS`). When the recording arrives (`stop_recording`),
the server cuts it to exactly the chosen length (studio/recording.py), so clips are comparable.
"""

from __future__ import annotations

from har_demo.studio.recording import DEFAULT_SECONDS

MIN_CLIP_SECONDS = 2.0
MAX_CLIP_SECONDS = 4.0  # the "fixed 2-4 s"; a host's lower limit wins
COUNTDOWN_FROM = 3
MAX_IN_A_ROW = 10  # "record N clips in a row": at most this many takes per press
SETTLE_MS = 1000  # between takes: the person gets back in place
LEAD_SECONDS = 0.3  # cut from the start: the recorder's first moments after the button press
MARGIN_SECONDS = 0.7  # recorded beyond the clip length: the lead plus some slack at the end

COUNTDOWN_ID = "studio-countdown-text"
WEBCAM_ID = "studio-webcam"
COUNTDOWN_HTML = (
    f'<div id="{COUNTDOWN_ID}" aria-live="assertive" style="font-size:4.5rem;font-weight:700;'
    'line-height:1.1;text-align:center;min-height:5rem"></div>'
)


def clip_length_range(max_clip_seconds: float) -> tuple[float, float, float]:
    """(shortest, longest, default) clip length the page offers, within the host's limit."""
    longest = max(0.5, min(MAX_CLIP_SECONDS, float(max_clip_seconds)))
    shortest = min(MIN_CLIP_SECONDS, longest)
    return shortest, longest, min(max(DEFAULT_SECONDS, shortest), longest)


# shared by both scripts: find the webcam box, its record button, and the countdown text
_HELPERS = f"""
  const box = document.querySelector('#{WEBCAM_ID}');
  const show = (text) => {{
    const el = document.querySelector('#{COUNTDOWN_ID}');
    if (!el) return;
    el.textContent = text;
    el.style.fontSize = /^[0-9]$/.test(text) ? '4.5rem' : '1.6rem';  // the digits large, words readable
  }};
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const recordButton = () => box && box.querySelector('button.capture-button');
  const stopAfter = (seconds) => Math.round((Number(seconds) + {MARGIN_SECONDS}) * 1000);
"""

RECORD_JS = f"""(seconds, count) => {{
{_HELPERS}
  if (!box || window.__harStudioCountdown || window.__harStudioLive) return [];
  window.__harStudioCountdown = true;
  const takes = Math.max(1, Math.min({MAX_IN_A_ROW}, Math.round(Number(count) || 1)));
  const waitFor = async (test, ms) => {{
    const end = Date.now() + ms;
    while (!test() && Date.now() < end) await sleep(100);
    return test();
  }};
  const previewShown = () => !!box.querySelector('button[aria-label="Clear"]') && !recordButton();
  (async () => {{
    try {{
      for (let k = 1; k <= takes; k++) {{
        const clear = box.querySelector('button[aria-label="Clear"]');
        if (clear && !recordButton()) {{ clear.click(); await sleep(300); }}
        if (!recordButton()) {{
          const access = Array.from(box.querySelectorAll('button'))
            .find((el) => el.textContent.trim().startsWith('Click to Access Webcam'));
          if (access) access.click();
        }}
        if (!(await waitFor(() => !!recordButton(), 15000))) {{
          show('No camera: allow the webcam, then press Record again.');
          return;
        }}
        if (takes > 1) {{ show(`Clip ${{k}} of ${{takes}}`); await sleep({SETTLE_MS}); }}
        for (let n = {COUNTDOWN_FROM}; n > 0; n--) {{ show(String(n)); await sleep(1000); }}
        const take = (window.__harStudioTake || 0) + 1;  // START_JS counts this take when it starts
        recordButton().click();
        await sleep(stopAfter(seconds));
        if (window.__harStudioLive && window.__harStudioTake === take && recordButton()) recordButton().click();
        if (k < takes) {{  // the take is added when the server clears the recorded preview
          await waitFor(previewShown, 5000);
          await waitFor(() => !previewShown(), 60000);
        }}
      }}
    }} finally {{
      window.__harStudioCountdown = false;
    }}
  }})();
  return [];
}}"""

# on the webcam's start_recording: count the take; a recording started with the webcam's own
# button (no countdown) is stopped after the same length
START_JS = f"""(seconds) => {{
{_HELPERS}
  window.__harStudioLive = true;
  const take = (window.__harStudioTake = (window.__harStudioTake || 0) + 1);
  show('● Recording');
  if (!window.__harStudioCountdown) {{
    setTimeout(() => {{
      if (window.__harStudioLive && window.__harStudioTake === take && recordButton()) recordButton().click();
    }}, stopAfter(seconds));
  }}
  return [];
}}"""

STOP_JS = f"""() => {{
{_HELPERS}
  window.__harStudioLive = false;
  show('✓ Recorded');
  setTimeout(() => {{ if (!window.__harStudioLive && !window.__harStudioCountdown) show(''); }}, 3000);
  return [];
}}"""
