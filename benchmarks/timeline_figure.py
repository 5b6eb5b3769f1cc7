"""Time to build the timeline figure, the pre-fix builder as the baseline.

    python benchmarks/timeline_figure.py              # the issue's 161 segments, then a 10-minute video at 0.25 s
    python benchmarks/timeline_figure.py --quick      # smaller baseline cases only

The pre-fix `timeline_figure` (one add_vrect + add_vline + add_annotation per segment, each of
which copies and re-validates the layout's whole shape list) is kept here only, as `old_figure`.
Timelines are synthetic (no video, no model): two models whose top class changes every few
windows, so each has exactly the segment count asked for (the issue's 161 among them). Building and serialising (`fig.to_json()`, what
Gradio sends) are timed separately.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from har_demo import plots  # noqa: E402
from har_demo.names import REPORT_CLASSES, display_name  # noqa: E402
from har_demo.timeline import Timeline  # noqa: E402


def synthetic_timeline(segments: int, run_windows: int, stride_s: float, window_s: float = 4.0) -> Timeline:
    """Two models whose top class changes every `run_windows` windows: `segments` segments each."""
    fps = 25.0
    stride = int(round(stride_s * fps))
    span = int(round(window_s * fps))
    n = segments * run_windows
    starts = np.arange(n, dtype=np.int64) * stride
    rng = np.random.default_rng(0)
    c = len(REPORT_CLASSES)
    probabilities = {}
    for shift, model in enumerate(("convlstm", "lrcn")):
        top = (np.arange(n) // run_windows + shift) % c  # a different class at every change
        p = rng.dirichlet(np.ones(c), size=n) * 0.4
        p[np.arange(n), top] += 0.6
        probabilities[model] = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    return Timeline(
        source="synthetic",
        classes=list(REPORT_CLASSES),
        fps=fps,
        frame_count=int(starts[-1]) + span,
        window_s=window_s,
        stride_s=stride_s,
        span_frames=span,
        stride_frames=stride,
        sampling="tutorial",
        start_frames=starts,
        frame_indices=starts[:, None] + np.arange(20)[None, :],
        probabilities=probabilities,
    )


def old_figure(timeline) -> go.Figure:
    """The pre-fix plots.timeline_figure, verbatim but for names (baseline only)."""
    models = timeline.models
    shown = plots.timeline_classes(timeline)
    titles = [f"<b>{display_name(m)}</b>" for m in models]
    fig = make_subplots(rows=len(models), cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.12)
    centers = timeline.centers
    starts, ends = timeline.starts, timeline.ends
    hover_time = [f"{s:.1f}-{e:.1f} s" for s, e in zip(starts, ends)]
    for row, model in enumerate(models, start=1):
        probs = timeline.probabilities[model]
        for c in shown:
            name = timeline.classes[c]
            fig.add_trace(
                go.Scatter(
                    x=centers,
                    y=probs[:, c],
                    customdata=hover_time,
                    mode="lines+markers" if timeline.windows < 60 else "lines",
                    marker=dict(size=4),
                    line=dict(color=plots.class_colour(c), width=2),
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    hovertemplate=f"{name}: %{{y:.0%}}<br>window %{{customdata}}<extra>{display_name(model)}</extra>",
                ),
                row=row,
                col=1,
            )
        span = max(timeline.duration, 1e-6)
        for segment in timeline.segments(model):
            c = timeline.classes.index(segment.label)
            fig.add_vrect(
                x0=segment.start_s,
                x1=segment.end_s,
                fillcolor=plots.class_colour(c),
                opacity=0.13,
                line_width=0,
                layer="below",
                row=row,
                col=1,
            )
            fig.add_vline(x=segment.start_s, line=dict(color="#888", width=1, dash="dot"), row=row, col=1)
            if (segment.end_s - segment.start_s) / span > 0.07:
                axis = "" if row == 1 else str(row)
                fig.add_annotation(
                    x=(segment.start_s + segment.end_s) / 2,
                    y=1.08,
                    xref=f"x{axis}",
                    yref=f"y{axis}",
                    text=segment.label,
                    showarrow=False,
                    font=dict(size=12, color=plots.class_colour(c)),
                )
        fig.update_yaxes(range=[0, 1.15], tickformat=".0%", tickvals=[0, 0.5, 1], gridcolor="#e5e5e5", row=row, col=1)
    fig.update_xaxes(range=[0, timeline.duration], gridcolor="#e5e5e5")
    fig.update_xaxes(title="time (s)", row=len(models), col=1)
    return plots._layout(
        fig, height=120 + 230 * len(models), legend=dict(orientation="h", y=-0.18, x=0), hovermode="x unified"
    )


def timed(build, timeline) -> tuple[float, float]:
    started = time.perf_counter()
    fig = build(timeline)
    built = time.perf_counter() - started
    started = time.perf_counter()
    fig.to_json()
    return built, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="baseline on small cases only (seconds, not minutes)")
    args = parser.parse_args()
    # (label, segments per model, windows per segment, stride s, run the baseline?)
    cases = [
        ("40 segments per model, 1 s stride", 40, 4, 1.0, True),
        ("80 segments per model, 1 s stride", 80, 4, 1.0, True),
        ("issue: 161 segments per model", 161, 4, 1.0, not args.quick),
        ("10 min at 0.25 s, a change every 3 windows", 800, 3, 0.25, False),
        ("10 min at 0.25 s, a change at every window", 2385, 1, 0.25, False),
    ]
    print(
        f"{'case':45} {'windows':>7} {'segments':>8} | {'before build':>12} {'json':>6} | {'after build':>11} {'json':>6} | speed-up"
    )
    for label, segments, run, stride, baseline in cases:
        tl = synthetic_timeline(segments, run, stride)
        total = sum(len(tl.segments(m)) for m in tl.models)
        after = timed(plots.timeline_figure, tl)
        before = timed(old_figure, tl) if baseline else None
        old = f"{before[0]:11.2f}s {before[1]:5.2f}s" if before else f"{'(not run)':>12} {'':>6}"
        ratio = f"{before[0] / after[0]:6.0f}x" if before else ""
        print(
            f"{label:45} {tl.windows:7d} {total:8d} | {old} | {after[0]:10.3f}s {after[1]:5.2f}s | {ratio}", flush=True
        )
    # The same 10-minute case with the true-label band: one more trace, no more time.
    band = timed(lambda t: plots.timeline_figure(t, true_label="TaiChi"), tl)
    print(
        f"{'  the same with a true-label band':45} {tl.windows:7d} {total:8d} | {'':>19} | {band[0]:10.3f}s {band[1]:5.2f}s |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
