"""The Gradio page: layout and wiring only. Every computation lives in `har_demo.views`.

    build_demo(engine) -> gr.Blocks   (app.py queues and launches it with THEME and CSS)

Tabs: Predict (upload / webcam / examples -> verdict, bars, the 20 frames, timing, device),
Timeline (sliding windows over a long video, CSV/JSON export), Misclassifications (the bundle's
wrong test clips, filtered), Models (Table 1, per-class metrics, confusion, curves, layers).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from har_demo import views
from har_demo.examples import find_examples
from har_demo.timeline import DEFAULT_STRIDE_S, DEFAULT_WINDOW_S

TITLE = "Human activity recognition: ConvLSTM vs LRCN"

THEME = gr.themes.Soft(primary_hue="blue", secondary_hue="orange", text_size="lg")

CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto; }
#verdict, #verdict p, #verdict strong { font-size: 1.6rem; line-height: 1.3; }
#verdict { min-height: 2.2em; }
#verdict p { margin: 0.2em 0; }
#frames img, #misclassified img { image-rendering: pixelated; }
#frames .grid-wrap.fixed-height, #misclassified .grid-wrap.fixed-height { min-height: 0; max-height: none; }
#frames .caption-label { font-size: 0.72rem; left: 2px; right: 2px; bottom: 2px; max-width: none; text-align: center; padding: 1px 2px; opacity: 0.92; }
#misclassified .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; }
#misclassified .thumbnail-item img { height: auto; }
#misclassified .caption-label { position: static; max-width: none; white-space: normal; opacity: 1;
  border: none; border-radius: 0; font-size: 0.9rem; }
#header p { margin: 0.1em 0; }
.small-note { font-size: 0.9rem; opacity: 0.85; }
.prose table { display: block; overflow-x: auto; width: max-content; max-width: calc(100vw - 72px); border: none; }
.prose table th, .prose table td { white-space: nowrap; }
#layers .prose table { font-size: 0.9rem; }
#layers, #segments { flex-wrap: wrap; }
#layers > *, #segments > * { flex: 1 1 340px; min-width: min(340px, 100%); }
@media (max-width: 700px) {
  .prose table th, .prose table td { padding: 4px 8px; }
  #verdict, #verdict p, #verdict strong { font-size: 1.25rem; }
  h1 { font-size: 1.5rem !important; }
  .tab-container button { padding: 0 0.4rem !important; font-size: 0.9rem !important; }
  #frames .grid-container { --grid-cols: 3 !important; }
  #frames .caption-label { font-size: 0.62rem; }
  #misclassified .grid-container { --grid-cols: 1 !important; }
}
"""

# Browsers cannot play XVID .avi (UCF50's codec) and the player says "Video not playable" in an
# error toast; the app answers with an H.264 preview a moment later (views.TempFiles.preview) and
# explains real problems in the page, so that one toast is closed as soon as it appears.
JS = """
() => {
  const close = () => document.querySelectorAll('[data-testid="toast-body"]').forEach((toast) => {
    if (toast.innerText.includes('Video not playable')) toast.querySelector('[data-testid="toast-close"]')?.click();
  });
  new MutationObserver(close).observe(document.body, { childList: true, subtree: true });
}
"""


def _predict_outputs(analysis: views.Analysis):
    if not analysis.ok:
        return "", None, [], analysis.info_markdown, {"error": analysis.message}
    return analysis.verdict, analysis.figure, analysis.gallery, analysis.info_markdown, analysis.result


def build_demo(engine: views.Engine, temp: views.TempFiles | None = None) -> gr.Blocks:
    """The whole page for one loaded bundle; handlers are thin calls into `views`."""
    bundle = engine.bundle
    limits = engine.limits
    temp = temp or views.TempFiles()
    examples, mixed = find_examples(bundle.classes)
    models = views.models_view(bundle, engine.notice)

    def predict(video):
        return _predict_outputs(views.analyse_video(engine, video, temp))

    def preview(video):
        playable = temp.preview(temp.original_of(video)) if video else None
        return str(playable) if playable else gr.skip()

    def timeline(video, window_s, stride_s, progress=gr.Progress()):
        result = views.timeline_view(
            engine,
            video,
            window_s,
            stride_s,
            exports=temp,
            progress=lambda fraction, desc: progress(fraction, desc=desc),
        )
        if not result.ok:
            return result.message, None, None, *[""] * len(segment_boxes)
        return result.summary, result.figure, [str(p) for p in result.files], *result.segments

    def misclassified(model, true_class):
        return views.misclassified_view(bundle, model, true_class)

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown(f"# {TITLE}", elem_id="title")
        gr.Markdown(views.header_markdown(engine), elem_id="header", elem_classes="small-note")
        if engine.notice:
            gr.Markdown(views.warning(engine.notice), elem_id="notice")
        if bundle.synthetic:
            gr.Markdown(
                "⚠ Weights trained on **synthetic clips**: fine for the examples, often wrong on real "
                "videos. See the **Models** tab for how to serve a UCF50-trained bundle.",
                elem_id="synthetic-banner",
            )

        with gr.Tabs(overflow_behavior="wrap"):
            # ---------------------------------------------------------------- Predict
            with gr.Tab("Predict", id="predict"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=300):
                        video = gr.Video(
                            label="Video (upload or record)",
                            sources=["upload", "webcam"],
                            include_audio=True,
                            height=300,
                            elem_id="video",
                        )
                        analyse = gr.Button("Analyse", variant="primary", elem_id="analyse")
                        gr.Markdown(limits.describe(), elem_classes="small-note")
                    with gr.Column(scale=3, min_width=300):
                        verdict = gr.Markdown(elem_id="verdict", value="Upload a video or click an example.")
                        bars = gr.Plot(label="Class probabilities", elem_id="bars", show_label=False)
                info = gr.Markdown(elem_id="info")
                frames = gr.Gallery(
                    label=f"The {engine.settings.frames} frames the models saw, in order (shown in RGB)",
                    columns=10,
                    height="auto",
                    object_fit="contain",
                    format="png",
                    allow_preview=True,
                    interactive=False,
                    elem_id="frames",
                )
                with gr.Accordion("Raw result (JSON)", open=False):
                    raw = gr.JSON(label="Prediction", elem_id="raw")
                outputs = [verdict, bars, frames, info, raw]
                if examples:
                    gr.Examples(
                        examples=[[str(p)] for p in examples],
                        inputs=[video],
                        outputs=outputs,
                        fn=predict,
                        cache_examples=True,
                        cache_mode="lazy",
                        run_on_click=True,
                        label="Synthetic examples (one click)",
                        elem_id="examples",
                        example_labels=[Path(p).stem.replace("synthetic_", "") for p in examples],
                        api_name=False,
                    )
                gr.on(
                    triggers=[analyse.click, video.upload, video.stop_recording],
                    fn=predict,
                    inputs=[video],
                    outputs=outputs,
                    api_name="predict",
                    trigger_mode="always_last",
                ).then(
                    preview,
                    inputs=[video],
                    outputs=[video],
                    api_visibility="private",
                    show_progress="hidden",
                    concurrency_limit=2,
                    concurrency_id="preview",
                )

            # ---------------------------------------------------------------- Timeline
            with gr.Tab("Timeline", id="timeline"):
                gr.Markdown(
                    "Slide a window over a long video and watch each model's probabilities change. "
                    "The per-window predictions download as CSV and JSON (observations for an HMM/DBN).",
                    elem_classes="small-note",
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=300):
                        long_video = gr.Video(label="Long video", sources=["upload"], include_audio=True, height=260)
                        window = gr.Slider(
                            limits.min_window_s,
                            limits.max_window_s,
                            value=DEFAULT_WINDOW_S,
                            step=0.5,
                            label="Window (seconds of video per prediction)",
                        )
                        stride = gr.Slider(
                            limits.min_stride_s,
                            limits.max_stride_s,
                            value=DEFAULT_STRIDE_S,
                            step=0.25,
                            label="Stride (seconds between windows)",
                        )
                        run_timeline = gr.Button("Run timeline", variant="primary", elem_id="run-timeline")
                        if mixed:
                            gr.Examples(
                                examples=[[str(mixed), DEFAULT_WINDOW_S, DEFAULT_STRIDE_S]],
                                inputs=[long_video, window, stride],
                                label="Synthetic example",
                                elem_id="timeline-examples",
                                example_labels=["four activities, 16 s"],
                                api_name=False,
                            )
                    with gr.Column(scale=3, min_width=300):
                        downloads = gr.File(
                            label="Per-window predictions (CSV, JSON)",
                            file_count="multiple",
                            interactive=False,
                            elem_id="downloads",
                        )
                        summary = gr.Markdown(elem_id="timeline-summary")
                timeline_plot = gr.Plot(show_label=False, elem_id="timeline-plot")
                with gr.Row(elem_id="segments"):
                    segment_boxes = [gr.Markdown(min_width=280) for _ in bundle.model_names]
                long_video.upload(
                    preview,
                    inputs=[long_video],
                    outputs=[long_video],
                    api_visibility="private",
                    show_progress="hidden",
                    concurrency_limit=2,
                    concurrency_id="preview",
                )
                run_timeline.click(
                    timeline,
                    inputs=[long_video, window, stride],
                    outputs=[summary, timeline_plot, downloads, *segment_boxes],
                    api_name="timeline",
                    concurrency_limit=2,
                    concurrency_id="timeline",
                )

            # ---------------------------------------------------------------- Misclassifications
            with gr.Tab("Misclassifications", id="misclassified") as misclassified_tab:
                with gr.Row():
                    model_filter = gr.Dropdown(views.model_choices(bundle), value=views.ALL_MODELS, label="Model")
                    class_filter = gr.Dropdown(views.class_choices(bundle), value=views.ALL_CLASSES, label="True class")
                wrong_message = gr.Markdown(elem_id="misclassified-message")
                wrong = gr.Gallery(
                    label="Frame strips (20 frames, in order)",
                    columns=2,
                    height="auto",
                    object_fit="contain",
                    format="png",
                    interactive=False,
                    elem_id="misclassified",
                )
                filters = [model_filter, class_filter]
                # filled when the tab is opened, not on every page load (a class opening the link at once)
                gr.on(
                    triggers=[misclassified_tab.select, model_filter.change, class_filter.change],
                    fn=misclassified,
                    inputs=filters,
                    outputs=[wrong, wrong_message],
                    api_name="misclassified",
                )

            # ---------------------------------------------------------------- Models
            with gr.Tab("Models", id="models"):
                gr.Markdown(models.banner, elem_id="provenance")
                gr.Markdown("### Test results (the report's Table 1)")
                gr.Markdown(models.table1, elem_id="table1")
                if models.per_class:
                    gr.Markdown("### Per class")
                    gr.Markdown(models.per_class, elem_id="per-class")
                if models.confusions:
                    gr.Markdown(
                        "### Confusion matrices (rows: true class, columns: predicted; colour: share of the row)"
                    )
                    with gr.Row():
                        for figure in models.confusions:
                            gr.Plot(figure, show_label=False, min_width=320)
                if models.curves is not None:
                    gr.Markdown("### Training curves (★ = best epoch, whose weights were kept)")
                    gr.Plot(models.curves, show_label=False)
                gr.Markdown("### Layers and parameters")
                with gr.Row(elem_id="layers"):
                    for table in models.layers:
                        gr.Markdown(table, min_width=320)
    return demo
