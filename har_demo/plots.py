"""Plotly figures for the app: probability bars, confusion matrices, training curves, timelines.

Plain functions of plain data (no Gradio here), so each figure is testable on its own and the
same figures can go into a notebook. Colours: one per model (bars, curves), one per class
(timeline), the same everywhere on the page.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from har_demo.names import display_name as display
from har_demo.truth import Truth

MODEL_COLOURS = {"convlstm": "#1f6fb4", "lrcn": "#d9661f"}
MODEL_LIGHT = {"convlstm": "#b7d3ec", "lrcn": "#f3cdb3"}
OTHER_COLOURS = ["#2a9d5b", "#8b4fb3", "#b33b5a", "#4a7f8c"]
CLASS_COLOURS = [
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
    "#cab2d6",
    "#6a3d9a",
    "#ff7f00",
    "#b15928",
    "#999999",
]
TOP_K = 8  # bars shown per model when a bundle has more classes than this
FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=15)


def model_colour(model: str, index: int = 0, light: bool = False) -> str:
    if light:
        return MODEL_LIGHT.get(model, "#d0d0d0")
    return MODEL_COLOURS.get(model, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def class_colour(index: int) -> str:
    return CLASS_COLOURS[index % len(CLASS_COLOURS)]


def _layout(fig: go.Figure, height: int, **extra) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=20, t=60, b=40),
        font=FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        **extra,
    )
    return fig


def message_figure(text: str, height: int = 220) -> go.Figure:
    """An empty figure that says why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=16))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, height)


def escaped(name: str) -> str:
    """A class name as plotly text: escaped, since plotly renders tags (a `<a href>` becomes a live link)."""
    return html.escape(str(name), quote=False)


def shown_classes(classes: list[str], probabilities: dict[str, np.ndarray], top_k: int = TOP_K) -> list[int]:
    """Indices of the classes to draw, in the bundle's order: all of them, or the union of each
    model's top_k (then the highest by the best model probability, at most 2 * top_k)."""
    n = len(classes)
    if n <= top_k:
        return list(range(n))
    keep: set[int] = set()
    for probs in probabilities.values():
        keep.update(int(i) for i in np.argsort(-np.asarray(probs))[:top_k])
    if len(keep) > 2 * top_k:
        best = np.max(np.stack([np.asarray(p) for p in probabilities.values()]), axis=0)
        keep = {i for i in keep if best[i] >= np.sort(best[list(keep)])[-2 * top_k]}
    return sorted(keep)


def probability_bars(classes: list[str], probabilities: dict[str, np.ndarray], top_k: int = TOP_K) -> go.Figure:
    """ONE figure: for each class (in the bundle's order, top to bottom) one bar per model side by
    side, so the two models compare class by class; each model's top class is marked with ★.

    With more than `top_k` classes only the classes in some model's top_k are drawn (the title
    says so). One shared axis reads on a phone as well as on a projector.
    """
    models = list(probabilities)
    if not models:
        return message_figure("No prediction yet.")
    keep = shown_classes(classes, probabilities, top_k)
    names = [escaped(classes[i]) for i in keep]
    fig = go.Figure()
    for index, model in enumerate(models):
        probs = np.asarray(probabilities[model], dtype=float)
        top = int(np.argmax(probs))
        values = [probs[i] for i in keep]
        colour = model_colour(model, index)
        fig.add_trace(
            go.Bar(
                x=values,
                y=names,
                orientation="h",
                name=f"{display(model)}: {escaped(classes[top])} {probs[top]:.0%}",
                marker=dict(
                    color=[colour if i == top else model_colour(model, index, light=True) for i in keep],
                    line=dict(color=colour, width=1.5),
                ),
                text=[f"<b>{p:.0%} ★</b>" if i == top else f"{p:.0%}" for i, p in zip(keep, values)],
                # inside long bars (a narrow phone screen would clip the label), outside short ones
                textposition=["inside" if p >= 0.4 else "outside" for p in values],
                insidetextanchor="end",
                insidetextfont=dict(color="white"),
                outsidetextfont=dict(color="#222"),
                cliponaxis=False,
                hovertemplate="%{y}: %{x:.1%}<extra>" + display(model) + "</extra>",
                showlegend=False,
            )
        )
        # The legend swatch in the model's full colour (a bar trace would show its first bar's).
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"{display(model)}: {escaped(classes[top])} {probs[top]:.0%}",
                marker=dict(symbol="square", size=15, color=colour),
            )
        )
    fig.update_xaxes(range=[0, 1.12], tickformat=".0%", tickvals=[0, 0.5, 1], gridcolor="#e5e5e5")
    fig.update_yaxes(autorange="reversed", automargin=True, ticksuffix=" ")
    title = "★ = each model's top class"
    if len(keep) < len(classes):
        title = f"Top {len(keep)} of {len(classes)} classes · " + title
    _layout(
        fig,
        height=130 + (26 * len(models) + 14) * len(names),
        barmode="group",
        bargap=0.22,
        bargroupgap=0.05,
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom", font=dict(size=15)),
        title=dict(
            text=title,
            x=0,
            xanchor="left",
            xref="paper",
            y=0.995,
            yref="container",
            yanchor="top",
            pad=dict(t=4),
            font=dict(size=12, color="#666"),
        ),
    )
    fig.update_layout(margin=dict(l=10, r=10, t=76, b=30))
    return fig


def confusion_heatmap(confusion, classes: list[str], model: str, split: str = "") -> go.Figure:
    """Counts in the cells; colour is the share of each true class (row), so rare classes show too."""
    counts = np.asarray(confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    text = [[f"{int(c)}" for c in row] for row in counts]
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=[escaped(c) for c in classes],
            y=[escaped(c) for c in classes],
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=16),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text} clips (%{z:.0%} of the row)<extra></extra>",
        )
    )
    suffix = f" ({split})" if split else ""
    n = len(classes)
    if n > 20:  # many classes: no numbers in the cells (hover has them), smaller rows
        fig.update_traces(texttemplate=None)
        fig.update_xaxes(tickfont=dict(size=9))
        fig.update_yaxes(tickfont=dict(size=9))
    fig.update_xaxes(title="predicted", side="bottom", tickangle=-30 if n <= 20 else -90)
    fig.update_yaxes(title="true", autorange="reversed")
    cell = 45 if n <= 20 else max(9, 900 // n)
    return _layout(fig, height=150 + cell * n, title=dict(text=f"{display(model)}{suffix}", x=0.5))


def training_curves(histories: dict[str, dict], best_epochs: dict[str, int] | None = None) -> go.Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), per model."""
    best_epochs = best_epochs or {}
    if not any(histories.values()):
        return message_figure("No training history in this bundle.")
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Loss", "Accuracy"], horizontal_spacing=0.1)
    for index, (model, history) in enumerate(histories.items()):
        colour = model_colour(model, index)
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for key, dash, label in ((metric, "solid", "train"), (f"val_{metric}", "dash", "validation")):
                values = history.get(key) or []
                if not values:
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=list(range(1, len(values) + 1)),
                        y=values,
                        mode="lines+markers",
                        line=dict(color=colour, dash=dash, width=2),
                        marker=dict(size=5),
                        name=f"{display(model)} {label}",
                        legendgroup=f"{model}{label}",
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
            best = best_epochs.get(model)
            values = history.get(f"val_{metric}") or []
            if best and 1 <= best <= len(values):
                fig.add_trace(
                    go.Scatter(
                        x=[best],
                        y=[values[best - 1]],
                        mode="markers",
                        marker=dict(symbol="star", size=14, color=colour, line=dict(color="black", width=1)),
                        name=f"{display(model)} best epoch",
                        legendgroup=f"{model}best",
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
    epochs = max((len(h.get("loss") or []) for h in histories.values()), default=1)
    fig.update_xaxes(title="epoch", gridcolor="#e5e5e5", tick0=1, dtick=max(1, -(-epochs // 10)))
    fig.update_yaxes(gridcolor="#e5e5e5")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    return _layout(fig, height=400, legend=dict(orientation="h", y=-0.25, x=0))


def timeline_classes(timeline, limit: int = TOP_K) -> list[int]:
    """The classes worth a line: every class that is some model's top class in some window, then
    (up to `limit` in all) the highest peaks; all of them when there are few classes."""
    n = len(timeline.classes)
    if n <= limit:
        return list(range(n))
    keep = set()
    for model in timeline.models:
        keep.update(int(i) for i in timeline.top_indices(model))
    peak = np.max(np.stack([timeline.probabilities[m].max(axis=0) for m in timeline.models]), axis=0)
    for i in np.argsort(-peak):
        if len(keep) >= limit:
            break
        keep.add(int(i))
    return sorted(keep)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


SEGMENT_OPACITY = 0.13
GAP = float("nan")  # a break between rectangles in one trace (sent to the browser as null)
Y_TOP = 1.15  # the probability axes run 0..Y_TOP; labels sit above 1


def segment_traces(timeline, model: str, row: int) -> tuple[list[go.Scatter], list[dict]]:
    """The shaded segments of one model as one filled trace per class (rectangles separated by
    None gaps) plus one dotted trace of segment starts, and the labels of the wide segments.

    One trace per class instead of one layout shape per segment: plotly copies and re-validates
    the whole shape list on every add_vrect, so building the old way took time quadratic in the
    segments (161 segments: 60 s); this is linear and draws as one SVG path per class."""
    axis = "" if row == 1 else str(row)
    span = max(timeline.duration, 1e-6)
    boxes: dict[int, tuple[list, list]] = {}
    edges_x: list = []
    edges_y: list = []
    labels: list[dict] = []
    for segment in timeline.segments(model):
        c = timeline.classes.index(segment.label)
        xs, ys = boxes.setdefault(c, ([], []))
        x0, x1 = segment.start_s, segment.end_s
        xs += [x0, x0, x1, x1, x0, GAP]
        ys += [0, Y_TOP, Y_TOP, 0, 0, GAP]
        edges_x += [x0, x0, GAP]
        edges_y += [0, Y_TOP, GAP]
        if (x1 - x0) / span > 0.07:
            labels.append(
                dict(
                    x=(x0 + x1) / 2,
                    y=1.08,
                    xref=f"x{axis}",
                    yref=f"y{axis}",
                    text=escaped(segment.label),
                    showarrow=False,
                    font=dict(size=12, color=class_colour(c)),
                )
            )
    traces = [
        go.Scatter(
            x=np.asarray(xs, dtype=float),  # arrays: plotly validates a list element by element
            y=np.asarray(ys, dtype=float),
            mode="lines",
            fill="toself",
            fillcolor=_rgba(class_colour(c), SEGMENT_OPACITY),
            line=dict(width=0),
            hoverinfo="skip",
            name=escaped(timeline.classes[c]),
            legendgroup=timeline.classes[c],
            showlegend=False,
        )
        for c, (xs, ys) in sorted(boxes.items())
    ]
    traces.append(
        go.Scatter(
            x=np.asarray(edges_x, dtype=float),
            y=np.asarray(edges_y, dtype=float),
            mode="lines",
            line=dict(color="#888", width=1, dash="dot"),
            hoverinfo="skip",
            name="segment starts",
            showlegend=False,
        )
    )
    return traces, labels


ROW_PX = 211  # a model row's plot height
GAP_PX = 58  # between rows: room for the next row's title
BAND_PX = 26  # the true-label band's height
TRUE_OPACITY = 0.8
LEGEND_PX = 86  # the legend sits this far below the plot, under the time axis title


TRUE_GREY = "#9a9a9a"  # a true class the bundle does not have
BAND_TEXT_MIN = 0.07  # a true-label piece wider than this share of the clip gets its text


def true_label_band(timeline, truth: Truth, row: int) -> tuple[list[go.Scatter], list[dict]]:
    """The clip's true label over time (a `har_demo.truth.Truth`): each piece a filled rectangle in
    its class colour (grey for a class the bundle does not have), one trace per class (rectangles
    separated by gaps, like the models' shading: linear in the pieces), and "true: <label>" in the
    middle of each piece wide enough to hold it."""
    axis = "" if row == 1 else str(row)
    duration = max(timeline.duration, 1e-6)
    boxes: dict[str, tuple[list, list]] = {}
    texts: list[dict] = []
    for piece in truth.segments:
        x0, x1 = min(max(piece.start_s, 0.0), duration), min(max(piece.end_s, 0.0), duration)
        if x1 <= x0:
            continue  # past the end of what the timeline covers
        xs, ys = boxes.setdefault(piece.label, ([], []))
        xs += [x0, x0, x1, x1, x0, GAP]
        ys += [0.0, 1.0, 1.0, 0.0, 0.0, GAP]
        if (x1 - x0) / duration > BAND_TEXT_MIN or len(truth.segments) == 1:
            texts.append(
                dict(
                    x=(x0 + x1) / 2,
                    y=0.5,
                    xref=f"x{axis}",
                    yref=f"y{axis}",
                    text=f"<b>true: {escaped(piece.label)}</b>",
                    showarrow=False,
                    font=dict(size=13, color="white"),
                )
            )
    traces = []
    for label, (xs, ys) in boxes.items():
        colour = class_colour(timeline.classes.index(label)) if label in timeline.classes else TRUE_GREY
        traces.append(
            go.Scatter(
                x=np.asarray(xs[:-1], dtype=float),
                y=np.asarray(ys[:-1], dtype=float),
                mode="lines",
                fill="toself",
                fillcolor=_rgba(colour, TRUE_OPACITY),
                line=dict(width=0),
                hoverinfo="skip",
                name=f"true: {escaped(label)}",
                showlegend=False,
            )
        )
    return traces, texts


def timeline_figure(timeline, true_label: str | None = None, *, truth: Truth | None = None) -> go.Figure:
    """One row per model: each class's probability over time (at window centres), with the
    segments (runs of the same top class) shaded and labelled; with `truth` (a
    `har_demo.truth.Truth`: the clip's true label over time) or `true_label` (one label over the
    whole clip), a thin band below the models says it, like the annotated video's strip.
    Built in time linear in the windows and segments (a 10-minute video at a 0.25 s stride: well
    under a second)."""
    models = timeline.models
    if not models or timeline.windows == 0:
        return message_figure("No windows.")
    if truth is None and true_label:
        truth = Truth.whole(true_label, timeline.duration)
    if truth is not None and not truth.segments:
        truth = None
    shown = timeline_classes(timeline)
    titles = [f"<b>{display(m)}</b>" for m in models]
    if len(shown) < len(timeline.classes):
        titles[0] += f" (the {len(shown)} of {len(timeline.classes)} classes that lead somewhere)"
    band_px = BAND_PX if truth else 0
    plot_px = len(models) * ROW_PX + (len(models) - 1) * GAP_PX + (band_px and band_px + GAP_PX)
    fig = make_subplots(
        rows=len(models) + (1 if truth else 0),
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles,
        vertical_spacing=GAP_PX / plot_px,
        row_heights=[ROW_PX] * len(models) + ([band_px] if truth else []),
    )
    centers = timeline.centers
    starts, ends = timeline.starts, timeline.ends
    hover_time = np.array([f"{s:.1f}-{e:.1f} s" for s, e in zip(starts, ends)])
    labels: list[dict] = []
    for row, model in enumerate(models, start=1):
        shading, row_labels = segment_traces(timeline, model, row)
        labels += row_labels
        for trace in shading:  # first, so the probability lines are drawn over the shading
            fig.add_trace(trace, row=row, col=1)
        probs = timeline.probabilities[model]
        for c in shown:
            name = escaped(timeline.classes[c])
            fig.add_trace(
                go.Scatter(
                    x=centers,
                    y=probs[:, c],
                    customdata=hover_time,
                    mode="lines+markers" if timeline.windows < 60 else "lines",
                    marker=dict(size=4),
                    line=dict(color=class_colour(c), width=2),
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    hovertemplate=f"{name}: %{{y:.0%}}<br>window %{{customdata}}<extra>{display(model)}</extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(range=[0, Y_TOP], tickformat=".0%", tickvals=[0, 0.5, 1], gridcolor="#e5e5e5", row=row, col=1)
    last = len(models)
    if truth:
        last += 1
        band, texts = true_label_band(timeline, truth, last)
        for trace in band:
            fig.add_trace(trace, row=last, col=1)
        labels += texts
        fig.update_yaxes(range=[0, 1], visible=False, fixedrange=True, row=last, col=1)
    fig.update_layout(annotations=list(fig.layout.annotations) + labels)  # once: adding one by one is quadratic
    fig.update_xaxes(range=[0, timeline.duration], gridcolor="#e5e5e5")
    fig.update_xaxes(title="time (s)", row=last, col=1)
    return _layout(
        fig, height=plot_px + 100, legend=dict(orientation="h", y=-LEGEND_PX / plot_px, x=0), hovermode="x unified"
    )
