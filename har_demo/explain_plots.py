"""Figures and images for explanations and the honest verdict (plotly and NumPy; no gradio).

- `explanation_strip`: the 20 frames with each model's Grad-CAM blended on, one strip per model.
- `frame_importance_figure`: one bar per frame and model, how much the answer relies on that frame.
- `attention_figure`: the attention head's own weight on each frame (har_demo.pretrained.frame_attention).
- `verdict_bars_figure`: each model's bars (top five + "others" with many classes) and the threshold line.
- `architecture_figure`: the two models' layers drawn from `har_demo.models.layer_table`, for students.
"""

from __future__ import annotations

import cv2
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from har_demo.explain import FrameImportance, Saliency, overlay
from har_demo.images import frame_strip
from har_demo.names import display_name
from har_demo.plots import _layout as _plots_layout
from har_demo.plots import model_colour
from har_demo.verdict import OTHERS, Bars

DISPLAY_SIDE = 96  # each 64x64 frame is shown at this size, so a phone still sees the heat map


def explanation_strip(frames_rgb: np.ndarray, saliency: Saliency, columns: int = 10) -> np.ndarray:
    """One RGB image: the frames, enlarged, with the model's Grad-CAM blended on."""
    big = np.stack([cv2.resize(f, (DISPLAY_SIDE, DISPLAY_SIDE), interpolation=cv2.INTER_NEAREST) for f in frames_rgb])
    return frame_strip(overlay(big, saliency.maps), color_order="rgb", columns=columns)


def _layout(fig: go.Figure, height: int, title: str) -> go.Figure:
    """The app's figure style (plots._layout) with a small left-aligned title."""
    return _plots_layout(fig, height, title=dict(text=title, x=0, xanchor="left", font=dict(size=13, color="#555")))


def frame_importance_figure(importances: dict[str, FrameImportance], times: list[float] | None = None) -> go.Figure:
    """Grouped bars: for each sampled frame, how many points each model's top probability drops without it."""
    fig = go.Figure()
    count = 0
    for index, (model, imp) in enumerate(importances.items()):
        count = len(imp.drops)
        labels = [f"{i + 1}" for i in range(count)]
        hover = [f"frame {i + 1}" + (f" ({times[i]:.2f} s)" if times else "") for i in range(count)]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=100 * imp.drops,
                name=f"{display_name(model)} ({imp.label} {imp.probability:.0%})",
                marker_color=model_colour(model, index),
                customdata=hover,
                hovertemplate="%{customdata}: %{y:.1f} points<extra>" + display_name(model) + "</extra>",
            )
        )
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.update_xaxes(title="sampled frame")
    fig.update_yaxes(title="drop in top probability (points)", zeroline=False, gridcolor="#eee")
    fig.update_layout(barmode="group", legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    return _layout(
        fig,
        320,
        f"Frame importance: each of the {count} frames replaced by its neighbour; a tall bar = the answer needs that frame",
    )


def attention_figure(attention: dict[str, np.ndarray], times: list[float] | None = None) -> go.Figure:
    """Bars: the share of the attention head's answer that rests on each frame (percent, summing to
    100), with the equal share drawn as a line so "more than its share" can be read at a glance."""
    fig = go.Figure()
    count = 0
    for index, (model, weights) in enumerate(attention.items()):
        count = len(weights)
        hover = [f"frame {i + 1}" + (f" ({times[i]:.2f} s)" if times else "") for i in range(count)]
        fig.add_trace(
            go.Bar(
                x=[f"{i + 1}" for i in range(count)],
                y=100 * np.asarray(weights, dtype=np.float64),
                name=f"{display_name(model)}: attention",
                marker_color=model_colour(model, index + 2),
                customdata=hover,
                hovertemplate="%{customdata}: %{y:.1f}% of the attention<extra>" + display_name(model) + "</extra>",
            )
        )
    if count:
        fig.add_hline(
            y=100 / count,
            line_dash="dash",
            line_color="#888",
            annotation_text=f"equal share ({100 / count:.0f}%)",
            annotation_position="top right",
        )
    fig.update_xaxes(title="sampled frame")
    fig.update_yaxes(title="share of the attention (%)", rangemode="tozero", gridcolor="#eee")
    fig.update_layout(barmode="group", legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    return _layout(
        fig, 320, "Attention weights: how much of the answer the head builds from each frame (they add up to 100%)"
    )


def verdict_bars_figure(bars: list[Bars], threshold: float) -> go.Figure:
    """One panel per model: its classes (or top five + others), the top one dark, the threshold dashed."""
    fig = make_subplots(
        rows=1, cols=len(bars), subplot_titles=[display_name(b.model) for b in bars], horizontal_spacing=0.18
    )
    for col, (index, b) in enumerate(enumerate(bars), start=1):
        top = int(np.argmax([v if label != OTHERS else -1 for label, v in zip(b.labels, b.values)]))
        colours = [
            model_colour(b.model, index) if i == top else model_colour(b.model, index, light=True)
            for i in range(len(b.labels))
        ]
        names = [f"{OTHERS} ({b.folded})" if label == OTHERS else label for label in b.labels]
        fig.add_trace(
            go.Bar(
                x=list(b.values),
                y=names,
                orientation="h",
                marker_color=colours,
                text=[f"{v:.0%}" for v in b.values],
                textposition="outside",
                cliponaxis=False,
                showlegend=False,
                hovertemplate="%{y}: %{x:.1%}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.add_vline(x=threshold, line_dash="dash", line_color="#444", row=1, col=col)
        fig.update_yaxes(autorange="reversed", automargin=True, row=1, col=col)
        fig.update_xaxes(
            range=[0, 1.18], tickformat=".0%", tickvals=[0, threshold, 1], gridcolor="#eee", row=1, col=col
        )
    rows = max((len(b.labels) for b in bars), default=1)
    return _layout(fig, 120 + 34 * rows, f"dashed line = the 'sure' threshold ({threshold:.0%})")


def _shape_text(shape: list) -> str:
    return "×".join(str(d) for d in shape[1:] if d is not None)


def architecture_figure(tables: dict[str, list[dict]]) -> go.Figure:
    """Each model as a row of boxes, one per layer that changes the data (dropout left out), with the
    shape of what it hands on: how 20 frames of 64x64x3 become 4 probabilities."""
    shapes, annotations, longest = [], [], 1
    for index, (model, rows) in enumerate(tables.items()):
        shown = [r for r in rows if "Dropout" not in r["type"]]
        items = [(r["type"].replace("TimeDistributed", "TD"), r["output_shape"]) for r in shown]
        longest = max(longest, len(items))
        y = -index
        colour, light = model_colour(model, index), model_colour(model, index, light=True)
        for i, (kind, shape) in enumerate(items):
            shapes.append(
                dict(
                    type="rect",
                    x0=i + 0.05,
                    x1=i + 0.95,
                    y0=y - 0.35,
                    y1=y + 0.35,
                    line=dict(color=colour),
                    fillcolor=light,
                )
            )
            annotations.append(
                dict(x=i + 0.5, y=y, text=f"<b>{kind}</b><br>{_shape_text(shape)}", showarrow=False, font=dict(size=10))
            )
            if i:
                arrow = dict(x=i + 0.05, y=y, ax=i - 0.05, ay=y, xref="x", yref="y", axref="x", ayref="y")
                annotations.append(dict(**arrow, text="", showarrow=True, arrowhead=2, arrowcolor="#777"))
        annotations.append(dict(x=-0.1, y=y, text=f"<b>{display_name(model)}</b>", showarrow=False, xanchor="right"))
    # Given whole, not added one by one: plotly re-checks every earlier item on each add (4.7 s here).
    fig = go.Figure(layout=dict(shapes=shapes, annotations=annotations))
    fig.update_xaxes(visible=False, range=[-1.6, longest + 0.1])
    fig.update_yaxes(visible=False, range=[-len(tables) + 0.4, 0.6])
    return _layout(
        fig, 110 + 90 * len(tables), "Each box: a layer and the shape it hands on (time × height × width × channels)"
    )
