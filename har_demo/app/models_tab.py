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
    started = {name: r.extra["warm_start"] for name, r in bundle.report.models.items() if r.extra.get("warm_start")}
    if started:
        sources = ", ".join(
            f"{display_name(k)} from {v.get('from', '?')} (sha256 {str(v.get('sha256', ''))[:12]}…)"
            for k, v in started.items()
        )
        lines.append(f"**Started from:** {sources}: every layer but the output one, then trained on this data.")
    s = bundle.settings
    lines.append(
        f"**Frames:** {s.frames} frames of {s.width}×{s.height}, {s.color_order.upper()}, "
        f"{s.sampling} sampling, {s.interpolation} resize, crop {s.crop}"
        + ("; the models see frame differences." if s.motion == "difference" else ".")
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


def session_view(ctx: AppContext, key: str | None, cache: dict[str | None, ModelsView] | None = None) -> ModelsView:
    """The Models view of this session's bundle (the shipped one's is built once and reused).

    `cache` keeps one view per session key (None: the default bundle), so layer tables and figures
    are made once per bundle, not on every visit of the tab. A key is never reused for another
    bundle (the studio makes a new key per bundle), and a dropped key falls back to the default.
    """
    engine = ctx.engine(key)
    slot = None if engine is ctx.default else key
    cache = {} if cache is None else cache
    view = cache.get(slot)
    if view is None:
        view = models_view(engine.bundle, engine.notice)
        if len(cache) > 64:  # sessions come and go; keep a few dozen views at most
            cache.clear()
        cache[slot] = view
    return view


# --------------------------------------------------------------------------- layout
SLOTS = 2  # the most models a bundle holds (ConvLSTM and LRCN): one confusion plot and one layer table each


def _slots(values: list, slots: int = SLOTS) -> list:
    return (list(values) + [None] * slots)[:slots]


def build_models_tab(ctx: AppContext) -> None:
    """Shows this session's bundle: the shipped one at first, the session's own after the Train tab
    trained or imported one (refreshed when the tab is opened and when the session's bundle changes)."""
    import gradio as gr

    from har_demo.app.students_panel import build_students_panel

    views: dict[str | None, ModelsView] = {}
    models = session_view(ctx, None, views)
    with gr.Tab("Models", id="models") as tab:
        banner = gr.Markdown(models.banner, elem_id="provenance", label="Provenance")
        build_students_panel(ctx)
        gr.Markdown("### Test results (the report's Table 1)")
        table1 = gr.Markdown(models.table1, elem_id="table1", label="Table 1")
        per_class_title = gr.Markdown("### Per class", visible=bool(models.per_class))
        per_class = gr.Markdown(
            models.per_class, elem_id="per-class", visible=bool(models.per_class), label="Per class"
        )
        confusion_title = gr.Markdown(
            "### Confusion matrices (rows: true class, columns: predicted; colour: share of the row)",
            visible=bool(models.confusions),
        )
        with gr.Row():
            confusions = [
                gr.Plot(figure, show_label=False, min_width=320, visible=figure is not None, label="Confusion matrix")
                for figure in _slots(models.confusions)
            ]
        curves_title = gr.Markdown(
            "### Training curves (★ = best epoch, whose weights were kept)", visible=models.curves is not None
        )
        curves = gr.Plot(models.curves, show_label=False, visible=models.curves is not None, label="Training curves")
        gr.Markdown("### Layers and parameters")
        with gr.Row(elem_id="layers"):
            layers = [
                gr.Markdown(table or "", min_width=320, visible=table is not None, label="Layers")
                for table in _slots(models.layers)
            ]

    def shown(key: str | None) -> list:
        view = session_view(ctx, key, views)
        return [
            view.banner,
            view.table1,
            gr.update(visible=bool(view.per_class)),
            gr.update(value=view.per_class, visible=bool(view.per_class)),
            gr.update(visible=bool(view.confusions)),
            *(gr.update(value=f, visible=f is not None) for f in _slots(view.confusions)),
            gr.update(visible=view.curves is not None),
            gr.update(value=view.curves, visible=view.curves is not None),
            *(gr.update(value=t or "", visible=t is not None) for t in _slots(view.layers)),
        ]

    gr.on(
        triggers=[tab.select, ctx.session.change],
        fn=shown,
        inputs=[ctx.session],
        outputs=[
            banner,
            table1,
            per_class_title,
            per_class,
            confusion_title,
            *confusions,
            curves_title,
            curves,
            *layers,
        ],
        api_name="models",
        api_visibility="undocumented",  # the page's own refresh, not a tool
        show_progress="hidden",
    )
