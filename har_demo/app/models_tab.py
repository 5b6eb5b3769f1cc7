"""The Models tab, for the classroom: provenance, the report's Table 1, per-class metrics,
confusion matrices, training curves, and each model's layer table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from har_demo import plots
from har_demo.app.context import AppContext
from har_demo.app.text import warning, where
from har_demo.bundle import Bundle
from har_demo.names import display_name
from har_demo.report_text import per_class_markdown, table1_markdown


@dataclass
class ModelsView:
    banner: str  # provenance, and a warning when the weights are synthetic-trained
    table1: str  # accuracy/loss per model, split named
    per_class: str
    layers: list[str]  # per model: parameter count and layer table (markdown)
    confusions: list  # one plotly figure per model (empty without a report)
    curves: Any  # plotly figure, or None without a report


SYNTHETIC_BANNER = (
    "⚠ **These weights were trained on synthetic clips** (drawn figures walking a dog, doing tai chi, "
    "swinging, racing horses), not on UCF50. They show how the two models work, but on real videos "
    "they will often be wrong. For real videos use a UCF50-trained bundle: download UCF50, run "
    "`har-demo train UCF50/ --split group --out runs/ucf50`, then start the app with "
    "`HAR_DEMO_BUNDLE=runs/ucf50 python app.py` (or push it with `har-demo push` and set "
    "`HAR_DEMO_BUNDLE=OWNER/NAME@REVISION`). Tutorial weights import with `har-demo import`."
)


def provenance_markdown(bundle: Bundle, notice: str = "") -> str:
    m = bundle.manifest
    dataset = m.dataset
    lines = []
    if notice:
        lines.append(warning(notice))
    if bundle.synthetic:
        lines.append(SYNTHETIC_BANNER)
    source = m.source or "?"
    what = {"trained": "trained with `har-demo train`", "imported": "imported from weight files"}.get(source, source)
    lines.append(f"**Bundle:** {m.name or '?'}, loaded from `{where(bundle)}`; {what}, {m.created or '?'}.")
    if dataset:
        data = f"**Data:** {dataset.get('name', '?')}"
        if dataset.get("clips"):
            data += f", {dataset['clips']} clips"
        data += " (synthetic)" if bundle.synthetic else ""
        lines.append(data + f"; classes: {', '.join(bundle.classes)}.")
    imported = m.imported_from
    if imported:
        files = ", ".join(
            f"{display_name(k)} from `{v.get('file', '?')}` (sha256 {str(v.get('sha256', ''))[:12]}…)"
            for k, v in imported.items()
        )
        lines.append(f"**Weights:** {files}.")
    s = bundle.settings
    lines.append(
        f"**Frames:** {s.frames} frames of {s.width}×{s.height}, {s.color_order.upper()}, "
        f"{s.sampling} sampling, {s.interpolation} resize, crop {s.crop}."
    )
    versions = m.versions
    if versions:
        lines.append("**Written with:** " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    return "\n\n".join(lines)


def layers_markdown(model, name: str) -> str:
    """One model's layer table (the report's Figures 1 and 2 as a table) and its parameter count."""
    from har_demo.models import layer_table  # Keras: only once models are loaded anyway

    parts = [
        f"#### {display_name(name)}: {int(model.count_params()):,} parameters\n",
        "| Layer | Type | Output per clip | Params |",
        "|:---|:---|:---|---:|",
    ]
    for r in layer_table(model):
        dims = (
            [str(d) for d in r["output_shape"][1:]]
            if r["output_shape"] and r["output_shape"][0] is None
            else [str(d) for d in r["output_shape"]]
        )
        shape = " × ".join(dims)
        kind = r["type"].replace("TimeDistributed(", "TimeDistributed(<br>")
        parts.append(f"| {r['name']} | {kind} | {shape} | {r['params']:,} |")
    return "\n".join(parts)


def models_view(bundle: Bundle, notice: str = "") -> ModelsView:
    report = bundle.report
    results = report.models
    split = report.split_kind
    confusions = [
        plots.confusion_heatmap(r.test.confusion, bundle.classes, m, f"{split} split test set" if split else "test set")
        for m, r in results.items()
        if r.test is not None and r.test.confusion
    ]
    histories = {m: r.history for m, r in results.items() if r.history}
    curves = plots.training_curves(histories, {m: r.best_epoch for m, r in results.items()}) if histories else None
    return ModelsView(
        banner=provenance_markdown(bundle, notice),
        table1=table1_markdown(bundle.report, bundle.manifest),
        per_class=per_class_markdown(bundle.report, bundle.classes) if bundle.report.models else "",
        layers=[layers_markdown(model, name) for name, model in bundle.models.items()],
        confusions=confusions,
        curves=curves,
    )


# --------------------------------------------------------------------------- layout
def build_models_tab(ctx: AppContext) -> None:
    """Built once for the served bundle (a session's own bundle does not change this tab yet)."""
    import gradio as gr

    from har_demo.app.students_panel import build_students_panel

    models = models_view(ctx.default.bundle, ctx.default.notice)
    with gr.Tab("Models", id="models"):
        gr.Markdown(models.banner, elem_id="provenance")
        build_students_panel(ctx)
        gr.Markdown("### Test results (the report's Table 1)")
        gr.Markdown(models.table1, elem_id="table1")
        if models.per_class:
            gr.Markdown("### Per class")
            gr.Markdown(models.per_class, elem_id="per-class")
        if models.confusions:
            gr.Markdown("### Confusion matrices (rows: true class, columns: predicted; colour: share of the row)")
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
