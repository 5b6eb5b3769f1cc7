"""The Train tab (the studio): name classes, record or upload clips, train both models, serve them.

The handlers are thin: the class set, zip, queue and training live in har_demo/studio (no
gradio there), the push in har_demo.hub, the import in har_demo.training.import_weights, the
plots in har_demo.plots. A finished training (or an imported / Hub model) becomes THIS browser
session's bundle: its key goes into `ctx.session`, so every tab of this session serves it while
other visitors keep the shipped one.

Recording is driven in the browser (app/studio_camera.py: a 3-2-1 countdown, then Gradio's own
webcam recorder started and stopped by the page after the chosen 2-4 s); the clip arrives on
`stop_recording` and is cut to exactly that length here. Every studio endpoint is undocumented:
callable by gradio_client, absent from the API page and from the MCP tools.

Two pieces of per-session state: `studio_id` (this session's studio folder, removed when the
session ends) and `ctx.session` (the engine key the other tabs read).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from har_demo import plots
from har_demo.app.engine import predictions_waiting
from har_demo.app.session_models import (
    SessionRefused,
    back_to_shipped,
    capacity_markdown,
    import_files,
    serve_folder,
    serve_reference,
    session_owner,
)
from har_demo.app.studio_camera import (
    COUNTDOWN_HTML,
    LEAD_SECONDS,
    MAX_IN_A_ROW,
    RECORD_JS,
    START_JS,
    STOP_JS,
    WEBCAM_ID,
    clip_length_range,
)
from har_demo.app.studio_lesson import PEOPLE_LESSON, banner, counts_and_warnings, lesson_curves
from har_demo.names import MODEL_NAMES, display_name
from har_demo.studio.archive import export_zip, import_zip
from har_demo.studio.errors import StudioError
from har_demo.studio.lesson import memory_caveat, single_person_classes, warnings
from har_demo.studio.limits import StudioLimits
from har_demo.studio.recording import trim_recording
from har_demo.studio.sessions import StudioSessions
from har_demo.studio.trainer import StudioTrainer, TrainOptions
from har_demo.training.tiny import TINY_EPOCHS

INTRO = (
    "### Teach the two models your own activities\n"
    "1. Name 2-{max_classes} classes (for example *Waving*, *Clapping*, *Jumping*). "
    "2. Press **Record a clip**: a 3-2-1 countdown, then the webcam records the chosen length "
    "({shortest:g}-{longest:g} s) and the clip is added to the chosen class; or upload videos. About ten "
    "clips a class. Use one **group** number per person or recording "
    "session (**Next person** gives the next one): the evaluation tests on groups the models did not train on. "
    "3. Train, watch both models learn (they start from the shipped models, which already follow "
    "moving figures, so ten clips a class are enough), then try them in every tab: this browser "
    "session serves the new models, other visitors keep the shipped ones."
)


class StudioState:
    """What the tab keeps per process: the sessions' class sets, the trainer, jobs and last bundles."""

    def __init__(self, limits: StudioLimits | None = None, base: Path | None = None) -> None:
        self.limits = limits or StudioLimits.from_env()
        self.sessions = StudioSessions(base, self.limits)
        self.trainer = StudioTrainer(self.limits, yield_to=predictions_waiting)  # visitors' predictions first
        self.jobs: dict[str, Any] = {}
        self.bundles: dict[str, Path] = {}
        self._lock = threading.Lock()

    def end(self, studio_id: str | None) -> None:
        if studio_id:
            job = self.jobs.pop(studio_id, None)
            if job is not None:
                job.stop()
            self.bundles.pop(studio_id, None)
            self.sessions.end(studio_id)


def _sid(studio_id: str | None) -> str:
    """This session's studio id: the gradio session hash when there is one (the unload event ends it)."""
    return studio_id or session_owner() or uuid.uuid4().hex


def clip_gallery(class_set) -> tuple[list, str]:
    """Thumbnails with captions, and the counts line."""
    clips = class_set.clips()
    items = [(str(c.thumbnail), f"{c.label} · g{c.group:02d} · {c.name}") for c in clips if c.thumbnail.is_file()]
    return items, counts_and_warnings(class_set)  # clips and people per class, and what to fix first


def evaluation_markdown(report: dict) -> str:
    split = report.get("split", {})
    lines = [
        f"**Held-out evaluation** ({split.get('test_clips', '?')} test clips from groups the models "
        f"did not train on; {split.get('train_clips', '?')} training clips):",
        "",
        "| model | accuracy | loss | epochs | training time |",
        "|---|---|---|---|---|",
    ]
    for name, result in report.get("models", {}).items():
        test = result.get("test", {})
        lines.append(
            f"| {display_name(name)} | {test.get('accuracy', 0):.0%} | {test.get('loss', 0):.3f} | "
            f"{result.get('epochs_trained', '?')} | {result.get('train_seconds', '?')} s |"
        )
    wrong = [(n, w) for n, r in report.get("models", {}).items() for w in r.get("misclassified", [])]
    if wrong:
        lines += [
            "",
            "**Misclassified:** "
            + "; ".join(
                f"{display_name(n)} called {w['clip']} {w['predicted']} ({w['confidence']:.0%})" for n, w in wrong[:12]
            ),
        ]
    return "\n".join(lines)


def stopped_markdown(report: dict, chosen: list[str] | tuple[str, ...]) -> str:
    """What a stopped training kept, in words: each trained model's epochs, and the models never started."""
    trained = report.get("models", {})
    kept = [
        f"{display_name(m)} as trained for {r.get('epochs_trained', '?')} epoch{'s' if r.get('epochs_trained') != 1 else ''}"
        for m, r in trained.items()
    ]
    skipped = [display_name(m) for m in chosen if m not in trained]
    text = "**Stopped.** The bundle keeps " + (" and ".join(kept) or "no model") + "."
    if skipped:
        text += f" {' and '.join(skipped)} {'was' if len(skipped) == 1 else 'were'} not trained."
    return text


def evaluation_outputs(bundle: Path, report: dict, caveat: str = "") -> tuple:
    """(evaluation text, two confusion-matrix updates, misclassified strips) of a trained bundle."""
    models = report.get("models", {})
    confusions = [
        plots.confusion_heatmap(r["test"]["confusion"], report["dataset"]["classes"], m, "held-out")
        for m, r in models.items()
    ] + [None, None]
    strips = [
        (str(bundle / w["image"]), f"{display_name(m)}: {w['clip']} → {w['predicted']}")
        for m, r in models.items()
        for w in r.get("misclassified", [])
        if w.get("image")
    ]
    return (
        evaluation_markdown(report) + (f"\n\n{caveat}" if caveat else ""),
        gr.update(value=confusions[0], visible=confusions[0] is not None),
        gr.update(value=confusions[1], visible=confusions[1] is not None),
        strips,
    )


def build_studio_tab(ctx, state: StudioState | None = None) -> None:
    """The Train tab (inside `gr.Tabs()`); its StudioState goes into `ctx.components["studio"]`."""
    state = state or StudioState()
    ctx.components["studio"] = state
    limits = state.limits
    shortest, longest, default_seconds = clip_length_range(limits.max_clip_seconds)
    with gr.Tab("Train", id="train"):
        # inside the tab: a component placed directly in gr.Tabs is taken for a tab by the front end
        # (the tab bar showed "Train" twice, or in the Models tab's place)
        studio_id = gr.State(None, time_to_live=limits.session_max_age_s, delete_callback=state.end)
        gr.Markdown(INTRO.format(max_classes=limits.max_classes, shortest=shortest, longest=longest))
        with gr.Row():
            room = gr.Markdown(lambda: capacity_markdown(ctx.registry), elem_id="studio-capacity")  # at each page load
            room_btn = gr.Button("↻ room now", size="sm", scale=0, elem_id="studio-capacity-refresh")
        with gr.Row():
            new_class = gr.Textbox(label="New class name", placeholder="Waving", scale=3, elem_id="studio-new-class")
            add_class_btn = gr.Button("Add class", scale=1, elem_id="studio-add-class")
            label = gr.Dropdown(label="Class for new clips", choices=[], allow_custom_value=True, scale=3)
            group = gr.Number(
                label="Group (person / session)",
                value=1,
                precision=0,
                minimum=1,
                maximum=99,
                scale=2,
                elem_id="studio-group",
            )
        with gr.Row():
            current = gr.Markdown(banner(None, None, 1), elem_id="studio-banner")
            next_person_btn = gr.Button("Next person (a new group)", scale=0, elem_id="studio-next-person")
        with gr.Row():
            with gr.Column(scale=3):
                webcam = gr.Video(
                    sources=["webcam"],
                    label="Webcam",
                    include_audio=False,
                    webcam_options=gr.WebcamOptions(mirror=True),
                    elem_id=WEBCAM_ID,
                )
            with gr.Column(scale=2):
                clip_seconds = gr.Slider(
                    shortest,
                    longest,
                    value=default_seconds,
                    step=0.5,
                    label="Clip length (s)",
                    elem_id="studio-seconds",
                )
                in_a_row = gr.Slider(
                    1, MAX_IN_A_ROW, value=1, step=1, label="Clips in a row", elem_id="studio-in-a-row"
                )
                record_btn = gr.Button("Record (3-2-1, then record)", variant="primary", elem_id="studio-record")
                gr.HTML(COUNTDOWN_HTML, elem_id="studio-countdown")
                uploads = gr.File(
                    label="Or upload videos", file_count="multiple", file_types=["video"], elem_id="studio-uploads"
                )
                add_uploads_btn = gr.Button("Add the uploads", elem_id="studio-add-uploads")
        status = gr.Markdown(label="Studio status", elem_id="studio-status")
        counts = gr.Markdown("No classes yet.", label="Clips per class", elem_id="studio-counts")
        gallery = gr.Gallery(label="Clips", columns=8, height=260, allow_preview=False)
        selected = gr.State(None)
        with gr.Row():
            delete_btn = gr.Button("Delete the selected clip", variant="stop", size="sm")
            zip_out = gr.DownloadButton("Download the clip set (.zip)", size="sm")
            zip_in = gr.File(label="Upload a clip set (.zip, UCF layout)", file_types=[".zip"], elem_id="studio-zip-in")

        gr.Markdown("### Train")
        gr.Markdown(PEOPLE_LESSON, elem_id="studio-lesson")
        with gr.Row():
            models = gr.CheckboxGroup(
                [(display_name(m), m) for m in MODEL_NAMES],
                value=list(MODEL_NAMES),
                label="Models",
                elem_id="studio-models",
            )
            epochs = gr.Slider(
                1,
                limits.max_epochs,
                value=min(TINY_EPOCHS, limits.max_epochs),
                step=1,
                label="Epochs",
                elem_id="studio-epochs",
            )
            warm = gr.Checkbox(
                value=True,
                label="Start from the shipped models",
                info="transfer learning: what makes ten clips a class enough; off = random weights",
                elem_id="studio-warm",
            )
            train_btn = gr.Button("Train", variant="primary", elem_id="studio-train")
            stop_btn = gr.Button("Stop", variant="stop", elem_id="studio-stop")
        progress = gr.Markdown(label="Training progress", elem_id="studio-progress")
        curves = gr.Plot(label="Training curves", elem_id="studio-curves")
        evaluation = gr.Markdown(label="Evaluation", elem_id="studio-evaluation")
        with gr.Row():
            confusion_a = gr.Plot(label="Confusion")
            confusion_b = gr.Plot(label="Confusion")
        misclassified = gr.Gallery(label="Misclassified held-out clips", columns=4, height=200)
        bundle_zip = gr.DownloadButton("Download the bundle (.zip)", visible=False)

        gr.Markdown("### Push to the Hugging Face Hub")
        with gr.Row():
            repo_id = gr.Textbox(label="Model repo (OWNER/NAME)", scale=3)
            token = gr.Textbox(label="Write token (used once, never kept)", type="password", scale=3)
            push_btn = gr.Button("Push", scale=1)
        push_status = gr.Markdown(label="Push status")

        gr.Markdown("### Or bring your own models")
        with gr.Row():
            model_files = gr.File(
                label="Tutorial .h5 / .keras (one or two)", file_count="multiple", file_types=[".h5", ".keras"]
            )
            model_classes = gr.Textbox(
                label="Class names, in output order", placeholder="WalkingWithDog, TaiChi, Swing, HorseRace"
            )
            import_btn = gr.Button("Serve these files")
        with gr.Row():
            hub_ref = gr.Textbox(label="Or a Hub bundle OWNER/NAME[@REVISION]", scale=3)
            hub_btn = gr.Button("Serve from the Hub", scale=1)
        with gr.Row():
            back_btn = gr.Button("Back to the shipped models", size="sm", elem_id="studio-back")
        byo_status = gr.Markdown(label="Own models status")

    # ------------------------------------------------------------------ handlers
    def refreshed(sid: str, message: str = ""):
        class_set = state.sessions.class_set(sid)
        items, count_text = clip_gallery(class_set)
        choices = class_set.classes
        return sid, message, count_text, items, gr.update(choices=choices, value=choices[-1] if choices else None)

    def on_add_class(sid, name):
        sid = _sid(sid)
        try:
            added = state.sessions.class_set(sid).add_class(name)
        except StudioError as exc:
            return *refreshed(sid, f"⚠ {exc}"), gr.update()
        out = refreshed(sid, f"Added class **{added}**.")
        return *out[:4], gr.update(choices=out[4]["choices"], value=added), ""

    def _add(sid, label_value, group_value, paths, recorded: float | None):
        """Add clips; `recorded`: the clip length to cut webcam recordings to (None for uploads)."""
        sid = _sid(sid)
        class_set = state.sessions.class_set(sid)
        if not label_value:
            return refreshed(sid, "⚠ Add a class first, then choose it for the new clips.")
        messages, added = [], 0
        for path in paths:
            try:
                state.sessions.make_room(sid, Path(path).stat().st_size, state.trainer.busy)  # before writing
                if recorded:
                    trimmed = Path(tempfile.mkdtemp(dir=class_set.folder, prefix=".rec-")) / "recording.webm"
                    try:
                        trim_recording(path, trimmed, recorded, lead=LEAD_SECONDS)
                        class_set.add_clip(label_value, trimmed, group_value)
                    finally:
                        shutil.rmtree(trimmed.parent, ignore_errors=True)
                    added += 1
                else:  # a long video becomes several clips; a UCF name keeps its group
                    result = class_set.add_video(label_value, path, group_value)
                    added += len(result.clips)
                    if result.note:
                        messages.append(result.note)
            except (StudioError, ValueError) as exc:
                messages.append(f"⚠ {Path(path).name}: {exc}")
        head = f"Added {added} clip{'s' if added != 1 else ''} to **{label_value}**." if added else ""
        out = refreshed(sid, "  \n".join([head, *messages]).strip())
        return *out[:4], gr.update(value=label_value)

    def on_add_recording(sid, label_value, group_value, seconds, video):
        if not video:
            return *refreshed(_sid(sid), "⚠ Record a clip first."), None
        seconds = min(max(float(seconds or default_seconds), shortest), longest)
        return *_add(sid, label_value, group_value, [video], seconds), None

    def on_add_uploads(sid, label_value, group_value, files):
        if not files:
            return *refreshed(_sid(sid), "⚠ Choose video files first."), None
        return *_add(sid, label_value, group_value, [getattr(f, "name", f) for f in files], None), None

    def on_select(sid, evt: gr.SelectData):
        clips = state.sessions.class_set(_sid(sid)).clips()
        clips = [c for c in clips if c.thumbnail.is_file()]
        if evt.index is None or not 0 <= evt.index < len(clips):
            return None
        return (clips[evt.index].label, clips[evt.index].name)

    def on_delete(sid, chosen):
        sid = _sid(sid)
        if not chosen:
            return *refreshed(sid, "⚠ Click a clip's thumbnail first."), None
        try:
            state.sessions.class_set(sid).delete_clip(*chosen)
        except StudioError as exc:
            return *refreshed(sid, f"⚠ {exc}"), None
        return *refreshed(sid, f"Deleted {chosen[1]}."), None

    def on_zip_out(sid):
        sid = _sid(sid)
        class_set = state.sessions.class_set(sid)
        out = Path(tempfile.mkdtemp(dir=class_set.folder, prefix=".zip-")) / "studio_clips.zip"
        return sid, str(export_zip(class_set, out))

    def on_zip_in(sid, file):
        sid = _sid(sid)
        if not file:
            return *refreshed(sid), None
        try:
            state.sessions.make_room(sid, Path(getattr(file, "name", file)).stat().st_size, state.trainer.busy)
            report = import_zip(state.sessions.class_set(sid), getattr(file, "name", file))
        except StudioError as exc:
            return *refreshed(sid, f"⚠ {exc} Your clips are unchanged."), None
        return *refreshed(sid, report.sentence()), None

    def on_train(sid, key, chosen_models, epoch_count, from_shipped=True):
        """Queue a training of this session's clips; yields progress, curves, then the evaluation."""
        sid = _sid(sid)
        class_set = state.sessions.class_set(sid)
        empty = (None, None, [], gr.update(visible=False))
        options = TrainOptions(
            models=tuple(chosen_models or ()), epochs=int(epoch_count), warm_start=bool(from_shipped)
        )
        try:
            job = state.trainer.start(sid, class_set, options)
        except StudioError as exc:
            yield sid, key, f"⚠ {exc}", None, "", *empty
            return
        state.jobs[sid] = job
        figure = None
        warned = "".join(f"  \n⚠ {w}" for w in warnings(class_set))
        caveat = memory_caveat(single_person_classes(class_set))
        for event in job.events():
            if event.kind in ("queued", "started"):
                yield sid, key, event.message + warned, figure, "", *empty
            elif event.kind == "epoch":
                figure = lesson_curves(event.history)
                left = f" · about {event.seconds_left:.0f} s left" if event.seconds_left is not None else ""
                yield sid, key, f"{event.message}{left}", figure, "", *empty
            elif event.kind == "error":
                state.jobs.pop(sid, None)
                yield sid, key, f"⚠ {event.message}", figure, "", *empty
                return
            elif event.kind == "ready":  # the first model(s): served now, while the rest train
                figure = lesson_curves(event.history)
                try:
                    key = serve_bundle(ctx, key, event.bundle)
                    message = f"{event.message} Every tab of this session uses it now, while the rest train."
                except Exception as exc:  # a full server: the final bundle will be tried again
                    message = f"{event.message} ⚠ It could not be served here: {exc}"
                yield sid, key, message, figure, *evaluation_outputs(event.bundle, event.report, caveat), gr.update()
            elif event.kind == "done":
                state.jobs.pop(sid, None)
                state.bundles[sid] = event.bundle
                figure = lesson_curves(event.history)
                message = event.message
                if event.stopped:
                    message = f"{stopped_markdown(event.report, chosen_models or MODEL_NAMES)} {message}"
                try:
                    new_key = serve_bundle(ctx, key, event.bundle)
                    message += " This session now serves the new models in every tab."
                except Exception as exc:  # a full server: the bundle is still downloadable
                    new_key = key
                    message += f" ⚠ It could not be served here: {exc}"
                zipped = shutil.make_archive(
                    str(event.bundle.parent / f"{event.bundle.name}-bundle"), "zip", event.bundle
                )
                yield (
                    sid,
                    new_key,
                    message,
                    figure,
                    *evaluation_outputs(event.bundle, event.report, caveat),
                    gr.update(value=zipped, visible=True),
                )
                return

    def on_stop(sid):
        job = state.jobs.get(sid or "")
        if job is None:
            return "Nothing is training."
        job.stop()
        return "Stopping after the current batch; the models trained so far are kept."

    def on_push(sid, repo, token_value):
        from har_demo.hub import push_bundle

        bundle = state.bundles.get(sid or "")
        if bundle is None:
            return "⚠ Train first: there is no bundle of this session to push.", ""
        if not (repo or "").strip() or not token_value:
            return "⚠ Give the repo id and a write token.", ""
        try:
            pushed = push_bundle(bundle, repo.strip(), token=token_value)
        except Exception as exc:  # HubError messages are scrubbed of the token by har_demo.hub
            return f"⚠ {type(exc).__name__}: {exc}", ""
        finally:
            token_value = None
        return f"Pushed to **{pushed.repo_id}** ({pushed.revision}, commit {pushed.commit[:7]}).", ""

    def on_import(key, files, classes_text):
        names = [c.strip() for c in (classes_text or "").split(",") if c.strip()]
        if not files:
            return key, "⚠ Choose one or two .h5/.keras files."
        if len(names) < 2:
            return key, "⚠ Give the class names the model was trained on, comma-separated, in output order."
        paths = [Path(getattr(f, "name", f)) for f in files[:2]]
        try:
            new_key = import_files(ctx.registry, ctx.temp.new_folder(), paths, names, key)
        except SessionRefused as exc:
            return key, f"⚠ {exc}"
        return new_key, f"Serving the imported models for {', '.join(names)} in this session."

    def on_hub(key, ref):
        if not (ref or "").strip():
            return key, "⚠ Give a Hub bundle as OWNER/NAME or OWNER/NAME@REVISION."
        try:
            return serve_reference(ctx.registry, ref, key), f"Serving {ref.strip()} in this session."
        except SessionRefused as exc:
            return key, f"⚠ {exc}"

    def on_back(key):
        return back_to_shipped(ctx.registry, key)

    # Every studio endpoint is "undocumented": callable by gradio_client (the tests, scripts) but
    # not listed in the API page or offered as an MCP tool (an assistant has no business training
    # or pushing from a visitor's session).
    hidden = {"api_visibility": "undocumented"}
    listed = [studio_id, status, counts, gallery, label]
    add_class_btn.click(
        on_add_class, [studio_id, new_class], [*listed, new_class], api_name="studio_add_class", **hidden
    )
    new_class.submit(on_add_class, [studio_id, new_class], [*listed, new_class], api_visibility="private")
    record_btn.click(None, [clip_seconds, in_a_row], None, js=RECORD_JS)

    def on_banner(sid, label_value, group_value):
        return banner(state.sessions.class_set(_sid(sid)), label_value, group_value) if sid else banner(None, None, 1)

    def on_next_person(sid):
        sid = _sid(sid)
        return sid, state.sessions.class_set(sid).next_group()

    for changed in (label.change, group.change, counts.change):
        changed(on_banner, [studio_id, label, group], [current], api_visibility="private")
    next_person_btn.click(on_next_person, [studio_id], [studio_id, group], api_name="studio_next_person", **hidden)
    webcam.start_recording(None, [clip_seconds], None, js=START_JS)
    webcam.stop_recording(None, None, None, js=STOP_JS)
    webcam.stop_recording(
        on_add_recording,
        [studio_id, label, group, clip_seconds, webcam],
        [*listed, webcam],
        api_name="studio_record",
        **hidden,
    )
    add_uploads_btn.click(
        on_add_uploads, [studio_id, label, group, uploads], [*listed, uploads], api_name="studio_upload", **hidden
    )
    gallery.select(on_select, [studio_id], [selected], api_visibility="private")
    delete_btn.click(on_delete, [studio_id, selected], [*listed, selected], api_visibility="private")
    zip_out.click(on_zip_out, [studio_id], [studio_id, zip_out], api_name="studio_zip", **hidden)
    zip_in.upload(on_zip_in, [studio_id, zip_in], [*listed, zip_in], api_name="studio_zip_upload", **hidden)
    train_btn.click(
        on_train,
        [studio_id, ctx.session, models, epochs, warm],
        [studio_id, ctx.session, progress, curves, evaluation, confusion_a, confusion_b, misclassified, bundle_zip],
        api_name="studio_train",
        concurrency_limit=None,  # waiting in the studio's own queue, not the app's
        **hidden,
    )
    stop_btn.click(on_stop, [studio_id], [progress], api_name="studio_stop", concurrency_limit=None, **hidden)
    push_btn.click(on_push, [studio_id, repo_id, token], [push_status, token], api_name="studio_push", **hidden)
    import_btn.click(
        on_import,
        [ctx.session, model_files, model_classes],
        [ctx.session, byo_status],
        api_name="studio_import",
        **hidden,
    )
    hub_btn.click(on_hub, [ctx.session, hub_ref], [ctx.session, byo_status], api_name="studio_hub", **hidden)
    room_btn.click(lambda: capacity_markdown(ctx.registry), None, [room], api_name="studio_room", **hidden)
    back_btn.click(on_back, [ctx.session], [ctx.session, byo_status], api_name="studio_back", **hidden)


def serve_bundle(ctx, old_key: str | None, ref) -> str:
    """Serve a bundle this session trained (a studio folder) to it; the old session engine is dropped.

    Raises SessionRefused (a sentence) when it is beyond the host's bounds or cannot get room.
    """
    return serve_folder(ctx.registry, Path(ref), "trained in this session", old_key)
