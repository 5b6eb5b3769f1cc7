"""The Live tab: the webcam streams into the app; each model's smoothed bars and the verdict update.

The logic is `har_demo.live` (buffer, sampling, smoothing, rate limits, measurements); this module
only turns a `Step` into what the page shows and wires the stream. The browser sends a camera
frame every STREAM_EVERY seconds (`gr.Image(streaming=True).stream`); each browser session's
buffer lives server-side in the tab's `LiveHub`, keyed by Gradio's session hash (a gr.State would
be deep-copied with its frames on every event), and goes when the session goes quiet.

Phones: Gradio 6's webcam (6.31) opens the camera with `webcam_options.constraints` once and shows
its own device list only when the browser reports more than one camera and nothing is streaming;
its `mirror` flips the preview and the frames sent alike, for every camera. So the tab has its own
camera picker (`CAMERA_PICKER_JS`, in the browser only): front ("user") or back ("environment")
camera by facingMode, or any camera the browser lists; it swaps the stream of Gradio's own video
element while it streams (Gradio captures its frames from that element), and mirrors the preview
of a front camera only. The models always get the camera's unmirrored frames.
"""

import json
from typing import Any

from har_demo.app.model_slots import slot_models
from har_demo.images import frame_strip
from har_demo.live import LiveError, LiveHub, LiveLimits, Step
from har_demo.names import display_name
from har_demo.verdict import DEFAULT_THRESHOLD

STREAM_EVERY = 0.05  # seconds between camera frames sent by the browser (at most 20 a second)
STRIP_EVERY = 4  # the frame strip goes to the page on every 4th update only: an image costs more than bars
CAMERA_SIZE = {"width": {"ideal": 320}, "height": {"ideal": 240}}  # the models need 64x64: small is enough
CAMERA_PICKER_HTML = """
<label style="display: flex; flex-direction: column; gap: 4px; max-width: 100%;">Camera
  <select id="live-camera-select" aria-label="Camera" style="width: 100%; max-width: 100%; text-overflow: ellipsis;">
    <option value="facing:user">Front camera (selfie, mirrored)</option>
    <option value="facing:environment">Back camera</option>
  </select>
</label>
<p id="live-camera-note" role="status" style="margin: 4px 0 0; font-size: 0.9rem;"></p>
"""
# Runs in the page each time the picker is mounted (gr.HTML js_on_load: `element` is the picker); the
# choice and the page-wide listener live on `window`, once. Gradio's own device button is hidden so
# that there is one camera choice, this one, which lists the same devices.
CAMERA_PICKER_JS = """
const size = %s;
const state = window.harLiveCamera || (window.harLiveCamera = { wanted: 'facing:user', installed: false });
const picker = () => document.querySelector('#live-camera-select');
const video = () => document.querySelector('#live-camera video');
const constraints = (value) => {
  const cut = value.indexOf(':');
  const [kind, id] = [value.slice(0, cut), value.slice(cut + 1)];
  return kind === 'device' ? { ...size, deviceId: { exact: id } } : { ...size, facingMode: { ideal: id } };
};
const isFront = (value, track) => {
  if (value === 'facing:user') return true;
  if (value === 'facing:environment') return false;
  const facing = (track && track.getSettings().facingMode) || '';
  return facing === 'user' || /front|user|face/i.test((track && track.label) || '');
};
const mirror = (on) => {
  const v = video();
  if (v) { v.style.transform = on ? 'scaleX(-1)' : 'none'; v.dataset.mirrored = on ? 'true' : 'false'; }
};
async function listDevices() {
  const select = picker();
  if (!select) return;
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
  select.querySelectorAll('option[value^="device:"]').forEach((o) => o.remove());
  cameras.forEach((d, i) => {
    if (!d.deviceId) return;  // ids and names come once the camera is allowed
    const option = document.createElement('option');
    option.value = 'device:' + d.deviceId;
    option.textContent = d.label || ('Camera ' + (i + 1));
    select.appendChild(option);
  });
  select.value = state.wanted;
  if (select.value !== state.wanted) { state.wanted = 'facing:user'; select.value = state.wanted; }
}
const say = (text) => { const note = document.querySelector('#live-camera-note'); if (note) note.textContent = text; };
async function useWanted(previous) {
  const v = video();
  if (!v || !v.srcObject) return listDevices();  // not streaming: taken when the camera starts
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: constraints(state.wanted), audio: false });
  } catch (e) {  // one sentence for the person; the stream goes on with the camera it had
    state.wanted = previous || 'facing:user';
    say('That camera could not be started (' + e.name + '); the stream goes on with the one before.');
    return listDevices();
  }
  say('');
  stream.harPicked = true;
  const old = v.srcObject;
  v.srcObject = stream;  // Gradio draws the frames it sends from this element
  await v.play();
  if (old && old !== stream) old.getTracks().forEach((t) => t.stop());
  mirror(isFront(state.wanted, stream.getVideoTracks()[0]));
  await listDevices();
  v.dataset.camera = state.wanted;  // the switch is done (tests wait for it)
}
const warn = (e) => console.warn('camera picker:', e);
if (!state.installed) {
  state.installed = true;
  const style = document.createElement('style');
  style.textContent = '#live-camera .device-select-button, #live-camera select.select-wrap { display: none !important; }';
  document.head.appendChild(style);
  document.addEventListener('change', (event) => {
    if (event.target.id !== 'live-camera-select') return;
    const previous = state.wanted;
    state.wanted = event.target.value;
    useWanted(previous).catch(warn);
  }, true);
  document.addEventListener('play', (event) => {  // Gradio started its camera: use the chosen one
    const v = event.target;
    if (!(v instanceof HTMLVideoElement) || !v.closest('#live-camera') || !v.srcObject || v.srcObject.harPicked) return;
    if (state.wanted === 'facing:user') {  // what Gradio asked for
      mirror(true);
      listDevices().then(() => { v.dataset.camera = state.wanted; }).catch(warn);
      return;
    }
    useWanted().catch(warn);
  }, true);
}
listDevices().catch(warn);
"""
# The presenter view (one click, and back): the Live tab's camera, verdict, bars and numbers fill the
# screen for a class (theme.CSS lays them out under `#live-stage.har-present`: side by side on a projector,
# the verdict above the camera on a phone). In the browser only; full screen where the browser allows.
PRESENT_JS = """
() => {
  const stage = document.querySelector('#live-stage');
  stage.classList.add('har-present');
  const leave = () => {
    document.querySelector('#live-stage').classList.remove('har-present');
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  };
  if (!window.harPresenterKeys) {
    window.harPresenterKeys = true;
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') leave(); });
    document.addEventListener('fullscreenchange', () => { if (!document.fullscreenElement) leave(); });
  }
  if (stage.requestFullscreen && window.matchMedia('(min-width: 701px)').matches) {
    document.documentElement.requestFullscreen().catch(() => {});
  }
  window.scrollTo(0, 0);
}
"""
LEAVE_JS = """
() => {
  document.querySelector('#live-stage').classList.remove('har-present');
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
}
"""
WAITING = {
    "warming": "Filling the buffer…",
    "full": "The live mode is busy: {n} people are streaming, the most this server allows. Try again in a minute.",
}


def intro_markdown(classes: list[str], limits: LiveLimits, frames: int) -> str:
    return (
        "Press the camera's record button and do one of the activities the models know "
        f"({', '.join(classes)}). The models look at the **last {limits.window_s:g} seconds**, "
        f"{frames} frames spread over them, up to {limits.rate:g} times a second. The bars are the average "
        f"of the last {limits.smoothing} answers, so they move smoothly; the verdict below uses them. "
        "Models trained on four activities name one of those four for anything they see."
    )


def step_outputs(step: Step, classes: list[str], color_order: str) -> tuple[Any, ...] | None:
    """(verdict markdown, {model: {class: smoothed probability}}, frame strip RGB, stats) or None to skip."""
    update = step.update
    if update is None:
        return None
    labels = {model: {c: float(p) for c, p in zip(classes, probs)} for model, probs in update.smoothed.items()}
    strip = frame_strip(update.frames, color_order=color_order, columns=10)
    return update.verdict.markdown(), labels, strip, update.stats_text()


def bar_label(model: str) -> str:
    return f"{display_name(model)} (smoothed)"


def bar_values(labels: dict[str, dict[str, float]], relabel: bool) -> list:
    """One value per bar slot, in the served bundle's model order. With `relabel` each slot comes as
    an update naming its model (and the slots left over hidden), so a session serving a bundle of
    other models than the page's gets its own names within a few updates; otherwise bare values."""
    shown = slot_models(list(labels))
    if not relabel:
        return [labels[m] if m else None for m in shown]
    import gradio as gr

    return [
        gr.Label(value=labels[m], label=bar_label(m), visible=True) if m else gr.Label(value=None, visible=False)
        for m in shown
    ]


def waiting_text(step: Step, limits: LiveLimits) -> str | None:
    """What the stats line says while no update comes (None: leave it as it is)."""
    text = WAITING.get(step.reason)
    return text.format(n=limits.max_sessions) if text else None


def build_live_tab(ctx) -> None:
    """Camera in; the verdict (large), each model's smoothed bars, the frames the models see now,
    updates per second and lag. One viewer cannot starve the others (see har_demo.live)."""
    import gradio as gr

    engine = ctx.default
    hub = LiveHub(LiveLimits.from_env())
    limits = hub.limits
    first = slot_models(list(engine.predictor.runners))  # the page's bundle; a session's may differ (bar_values)

    with gr.Tab("Live", id="live"):
        with gr.Row(elem_id="live-top"):
            gr.Markdown(intro_markdown(engine.classes, limits, engine.settings.frames), elem_id="live-intro")
            present = gr.Button("Presenter view", elem_id="live-present", variant="secondary", scale=0, min_width=160)
        with gr.Column(elem_id="live-stage"):
            leave = gr.Button("Leave presenter view (Esc)", elem_id="live-leave", size="sm")
            with gr.Row(equal_height=False, elem_id="live-main"):
                with gr.Column(scale=1, min_width=280, elem_id="live-camera-column"):
                    camera = gr.Image(
                        label="Camera",
                        sources=["webcam"],
                        streaming=True,
                        type="numpy",
                        # the front camera by default; the picker below mirrors its preview only
                        webcam_options=gr.WebcamOptions(
                            mirror=False, constraints={"video": {**CAMERA_SIZE, "facingMode": {"ideal": "user"}}}
                        ),
                        elem_id="live-camera",
                    )
                    gr.HTML(
                        CAMERA_PICKER_HTML,
                        js_on_load=CAMERA_PICKER_JS % json.dumps(CAMERA_SIZE),
                        elem_id="live-camera-picker",
                    )
                    threshold = gr.Slider(
                        0.0, 1.0, value=DEFAULT_THRESHOLD, step=0.05, label="'Sure' threshold", elem_id="live-threshold"
                    )
                with gr.Column(scale=1, min_width=280, elem_id="live-answer-column"):
                    verdict = gr.Markdown(
                        "Start the camera to see what the models think.", elem_id="live-verdict", label="Verdict"
                    )
                    with gr.Row(elem_id="live-bars"):
                        bars = [
                            gr.Label(
                                label=bar_label(m) if m else "Model (smoothed)",
                                num_top_classes=5,
                                visible=m is not None,
                                elem_id=f"live-{m}" if m else f"live-slot-{i}",
                            )
                            for i, m in enumerate(first)
                        ]
                    stats = gr.Markdown("", elem_id="live-stats", label="Measurements")
        strip = gr.Image(label="The frames the models see now", interactive=False, elem_id="live-frames")
        present.click(None, js=PRESENT_JS)
        leave.click(None, js=LEAVE_JS)

        def on_frame(frame, sure: float, key, request: gr.Request):
            """One camera frame: buffer it; when due, run every model and update the page."""
            session = getattr(request, "session_hash", None) or "api"
            current = ctx.engine(key)
            try:
                step = hub.step(session, frame, current.predict_frames, current.settings, current.classes, float(sure))
            except (LiveError, ValueError) as exc:
                raise gr.Error(str(exc)) from exc
            outputs = step_outputs(step, current.classes, current.settings.color_order)
            if outputs is None:
                note = waiting_text(step, limits)
                return (*[gr.skip()] * (len(bars) + 2), gr.skip() if note is None else note)
            markdown, labels, image, line = outputs
            every_few = step.update.number % STRIP_EVERY == 1
            if not every_few:
                image = gr.skip()
            return (markdown, *bar_values(labels, relabel=every_few), image, line)

        camera.stream(
            on_frame,
            inputs=[camera, threshold, ctx.session],
            outputs=[verdict, *bars, strip, stats],
            stream_every=STREAM_EVERY,
            time_limit=limits.time_limit_s,
            concurrency_limit=limits.max_sessions,
            api_name="live",
            show_progress="hidden",
        )
