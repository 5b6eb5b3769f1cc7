"""The Misclassifications tab: the bundle's wrong test clips as frame strips, filtered by model
and true class. The page serves copies of the strips (media.TempFiles.kept_copy), never the
bundle folder itself, so manifest, report and model files are not published."""

from __future__ import annotations

from pathlib import Path

from har_demo.app.context import AppContext
from har_demo.app.media import TempFiles
from har_demo.bundle import Bundle
from har_demo.manifest import Misclassified
from har_demo.names import display_name
from har_demo.report_text import split_words

ALL_MODELS = "All models"
ALL_CLASSES = "All classes"


def report_models(bundle: Bundle) -> list[str]:
    return list(bundle.report.models)


def model_choices(bundle: Bundle) -> list[str]:
    return [ALL_MODELS] + [display_name(m) for m in report_models(bundle) or bundle.model_names]


def class_choices(bundle: Bundle) -> list[str]:
    return [ALL_CLASSES] + bundle.classes


def _model_key(bundle: Bundle, choice: str | None) -> str | None:
    if not choice or choice == ALL_MODELS:
        return None
    for m in report_models(bundle) or bundle.model_names:
        if choice in (m, display_name(m)):
            return m
    return choice


def _strip_path(bundle: Bundle, entry: Misclassified) -> Path | None:
    """The entry's frame strip inside the bundle folder (None when missing or pointing outside it)."""
    if not entry.image:
        return None
    root = Path(bundle.path).resolve()
    image = (root / entry.image).resolve()
    if not image.is_relative_to(root) or not image.is_file():
        return None
    return Path(bundle.path) / entry.image


def misclassified_view(
    bundle: Bundle, model: str | None = ALL_MODELS, true_class: str | None = ALL_CLASSES
) -> tuple[list[tuple[Path, str]], str]:
    """Gallery items (frame strip image in the bundle, caption) of the misclassified test clips, and a message."""
    report = bundle.report
    if not report.models:
        return [], (
            "ℹ This bundle has no evaluation report (it was imported from weight files, not trained "
            "here), so there are no test clips to show. Train a bundle with `har-demo train` "
            "to get one."
        )
    wanted_model = _model_key(bundle, model)
    wanted_class = None if not true_class or true_class == ALL_CLASSES else true_class
    split = split_words(report.split)
    total_wrong = {m: len(r.misclassified) for m, r in report.models.items()}
    if not any(total_wrong.values()):
        clips = max(((r.test.clips or 0) if r.test else 0 for r in report.models.values()), default=0)
        return [], f"✓ No misclassified test clips: every model got all {clips} test clips right ({split})."
    items, missing = [], 0
    for name, result in report.models.items():
        if wanted_model and name != wanted_model:
            continue
        for entry in result.misclassified:
            if wanted_class and entry.true != wanted_class:
                continue
            image = _strip_path(bundle, entry)
            if image is None:
                missing += 1
                continue
            caption = (
                f"{display_name(name)} · true {entry.true} → predicted {entry.predicted} "
                f"({entry.confidence or 0:.0%}) · {Path(entry.clip).stem}"
            )
            items.append((image, caption))
    counts = ", ".join(f"{display_name(m)} {n}" for m, n in total_wrong.items())
    message = f"Misclassified test clips ({split}): {counts}."
    if not items and not missing:
        message += "\n\nNo misclassified clips match these filters."
    else:
        message += f" Showing {len(items)}."
    if missing:
        message += f" {missing} more have no frame strip in the bundle (it keeps at most 48 per model)."
    return items, message


def page_outputs(items: list[tuple[Path, str]], message: str, temp: TempFiles) -> tuple:
    """(gallery of served copies, message)."""
    return [(str(temp.kept_copy(p)), c) for p, c in items], message


def filter_choices(bundle: Bundle, model: str | None, true_class: str | None) -> tuple[list, str, list, str]:
    """(model choices, model value, class choices, class value) for this bundle: a value the bundle
    does not have (the previous bundle's class) goes back to "all"."""
    models, classes = model_choices(bundle), class_choices(bundle)
    return (
        models,
        model if model in models else ALL_MODELS,
        classes,
        true_class if true_class in classes else ALL_CLASSES,
    )


def misclassified(ctx: AppContext, model: str | None, true_class: str | None, key: str | None = None) -> tuple:
    """The /misclassified endpoint, for this session's bundle."""
    return page_outputs(*misclassified_view(ctx.engine(key).bundle, model, true_class), ctx.temp)


# --------------------------------------------------------------------------- layout
def build_misclassified_tab(ctx: AppContext) -> None:
    import gradio as gr

    bundle = ctx.default.bundle
    with gr.Tab("Misclassifications", id="misclassified") as tab:
        with gr.Row():
            model_filter = gr.Dropdown(model_choices(bundle), value=ALL_MODELS, label="Model")
            class_filter = gr.Dropdown(class_choices(bundle), value=ALL_CLASSES, label="True class")
        wrong_message = gr.Markdown(elem_id="misclassified-message", label="Message")
        wrong = gr.Gallery(
            label="Frame strips (20 frames, in order)",
            columns=2,
            height="auto",
            object_fit="contain",
            format="png",
            interactive=False,
            elem_id="misclassified",
        )

        # filled when the tab is opened, not on every page load (a class opening the link at once)
        def filters(model, true_class, key):
            """The filters follow this session's bundle (its models and classes, not the shipped ones)."""
            models, model, classes, true_class = filter_choices(ctx.engine(key).bundle, model, true_class)
            return gr.update(choices=models, value=model), gr.update(choices=classes, value=true_class)

        gr.on(
            triggers=[tab.select, ctx.session.change],
            fn=filters,
            inputs=[model_filter, class_filter, ctx.session],
            outputs=[model_filter, class_filter],
            api_visibility="private",
            show_progress="hidden",
        )
        gr.on(
            triggers=[tab.select, model_filter.change, class_filter.change],
            fn=lambda model, true_class, key: misclassified(ctx, model, true_class, key),
            inputs=[model_filter, class_filter, ctx.session],
            outputs=[wrong, wrong_message],
            api_name="misclassified",
        )
