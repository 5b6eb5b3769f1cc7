"""The Train tab (the studio): name classes, record or upload clips, train the models, serve them.

Layout and wiring only: the actions are plain functions in studio_actions.py (the clip set: classes,
recordings, uploads, the zip, Next person, own models) and studio_training.py (the model choice,
train, stop, push), over har_demo/studio (no gradio in any of them: `for_page` turns their plain
outputs into gr.update). A finished training (or an imported / Hub model) becomes THIS browser
session's bundle: its key goes into `ctx.session`, so every tab of this session serves it while
other visitors keep the shipped one.

Recording is driven in the browser (app/studio_camera.py: a 3-2-1 countdown, then Gradio's own
webcam recorder started and stopped by the page after the chosen 2-4 s); the clip arrives on
`stop_recording` and is cut to exactly that length. Every studio endpoint is undocumented:
callable by gradio_client, absent from the API page and from the MCP tools.

Two pieces of per-session state: `studio_id` (this session's studio folder, removed when the
session ends) and `ctx.session` (the engine key the other tabs read).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from har_demo.app import studio_actions as actions
from har_demo.app import studio_training as training
from har_demo.app.session_models import capacity_markdown
from har_demo.app.studio_actions import KEEP, Dropdown, Shown, StudioState
from har_demo.app.studio_camera import (
    COUNTDOWN_HTML,
    MAX_IN_A_ROW,
    RECORD_JS,
    START_JS,
    STOP_JS,
    WEBCAM_ID,
    clip_length_range,
)
from har_demo.app.studio_lesson import PEOPLE_LESSON, banner, pretrained_markdown
from har_demo.app.studio_training import stopped_markdown
from har_demo.names import MODEL_NAMES
from har_demo.studio.trainer import pretrained_unavailable

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


def page_update(value: Any) -> Any:
    """One action output as gradio takes it: the actions' plain KEEP, Dropdown and Shown become
    gr.update (the one place they do); any other value is the component's new value as it is."""
    if value is KEEP:
        return gr.update()
    if isinstance(value, Dropdown):
        if value.choices is None:
            return gr.update(value=value.value)
        return gr.update(choices=value.choices, value=value.value)
    if isinstance(value, Shown):
        if value.value is KEEP:
            return gr.update(visible=value.visible)
        return gr.update(value=value.value, visible=value.visible)
    return value


def for_page(outputs: tuple) -> tuple:
    """An action's outputs, each through `page_update`."""
    return tuple(page_update(value) for value in outputs)


def build_studio_tab(ctx, state: StudioState | None = None) -> None:
    """The Train tab (inside `gr.Tabs()`); its StudioState goes into `ctx.components["studio"]`."""
    from har_demo.training.tiny import TINY_EPOCHS  # lazily: the app imports training only where it is used

    state = state or StudioState()
    ctx.components["studio"] = state
    limits = state.limits
    shortest, longest, default_seconds = clip_length_range(limits.max_clip_seconds)
    missing = pretrained_unavailable()  # why the pretrained kinds are not offered here, or None
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
        gr.Markdown(pretrained_markdown(missing), elem_id="studio-pretrained")
        with gr.Row():
            models = gr.CheckboxGroup(
                training.model_choices(missing is None),
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

    # ------------------------------------------------------------------ wiring: thin calls into the actions
    registry = ctx.registry

    def on_add_class(sid, name):
        return for_page(actions.add_class(state, sid, name))

    def on_add_recording(sid, label_value, group_value, seconds, video):
        return for_page(actions.add_recording(state, sid, label_value, group_value, seconds, video))

    def on_add_uploads(sid, label_value, group_value, files):
        return for_page(actions.add_uploads(state, sid, label_value, group_value, files))

    def on_select(sid, evt: gr.SelectData):
        return actions.select_clip(state, sid, evt.index)

    def on_delete(sid, chosen):
        return for_page(actions.delete_clip(state, sid, chosen))

    def on_zip_out(sid):
        return actions.export_clips(state, sid)

    def on_zip_in(sid, file):
        return for_page(actions.import_clips(state, sid, file))

    def on_banner(sid, label_value, group_value):
        return actions.banner_text(state, sid, label_value, group_value)

    def on_next_person(sid):
        return actions.next_person(state, sid)

    def on_train(sid, key, chosen_models, epoch_count, from_shipped=True):
        for outputs in training.train(state, registry, sid, key, chosen_models, epoch_count, from_shipped):
            yield for_page(outputs)

    def on_stop(sid):
        return training.stop(state, sid)

    def on_push(sid, repo, token_value):
        return training.push(state, sid, repo, token_value)

    def on_import(key, files, classes_text):
        return actions.import_models(registry, ctx.temp.new_folder(), key, files, classes_text)

    def on_hub(key, ref):
        return actions.serve_hub(registry, key, ref)

    def on_back(key):
        return actions.back(registry, key)

    def on_room():
        return capacity_markdown(registry)

    # Every studio endpoint is "undocumented": callable by gradio_client (the tests, scripts) but
    # not listed in the API page or offered as an MCP tool (an assistant has no business training
    # or pushing from a visitor's session).
    hidden = {"api_visibility": "undocumented"}
    listed = [studio_id, status, counts, gallery, label]
    # The banner reads the class, the group and the clips: it is redrawn after each action that changes
    # them has updated the page (`.then`, in order), and when a person picks a class or a group
    # (`.input`). Not on `.change`: one action fired up to three banner requests at once, and a reply
    # made from the values before the update could land last and leave the banner stale.
    redraw = {"fn": on_banner, "inputs": [studio_id, label, group], "outputs": [current], "api_visibility": "private"}
    add_class_btn.click(
        on_add_class, [studio_id, new_class], [*listed, new_class], api_name="studio_add_class", **hidden
    ).then(**redraw)
    new_class.submit(on_add_class, [studio_id, new_class], [*listed, new_class], api_visibility="private").then(
        **redraw
    )
    record_btn.click(None, [clip_seconds, in_a_row], None, js=RECORD_JS)
    label.input(**redraw)
    group.input(**redraw)
    next_person_btn.click(
        on_next_person, [studio_id], [studio_id, group], api_name="studio_next_person", **hidden
    ).then(**redraw)
    webcam.start_recording(None, [clip_seconds], None, js=START_JS)
    webcam.stop_recording(None, None, None, js=STOP_JS)
    webcam.stop_recording(
        on_add_recording,
        [studio_id, label, group, clip_seconds, webcam],
        [*listed, webcam],
        api_name="studio_record",
        **hidden,
    ).then(**redraw)
    add_uploads_btn.click(
        on_add_uploads, [studio_id, label, group, uploads], [*listed, uploads], api_name="studio_upload", **hidden
    ).then(**redraw)
    gallery.select(on_select, [studio_id], [selected], api_visibility="private")
    delete_btn.click(on_delete, [studio_id, selected], [*listed, selected], api_visibility="private").then(**redraw)
    zip_out.click(on_zip_out, [studio_id], [studio_id, zip_out], api_name="studio_zip", **hidden)
    zip_in.upload(on_zip_in, [studio_id, zip_in], [*listed, zip_in], api_name="studio_zip_upload", **hidden).then(
        **redraw
    )
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
    room_btn.click(on_room, None, [room], api_name="studio_room", **hidden)
    back_btn.click(on_back, [ctx.session], [ctx.session, byo_status], api_name="studio_back", **hidden)


def serve_bundle(ctx, old_key: str | None, ref) -> str:
    """Serve a bundle this session trained (a studio folder) to it; the old session engine is dropped."""
    return training.serve_bundle(ctx.registry, old_key, ref)


__all__ = ["StudioState", "build_studio_tab", "for_page", "page_update", "serve_bundle", "stopped_markdown"]
