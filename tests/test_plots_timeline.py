"""The timeline figure is built in time linear in its segments: one filled trace
per class and model instead of one layout shape per segment, with the same shading and labels."""

from __future__ import annotations

import time

import numpy as np

from har_demo import plots
from har_demo.names import REPORT_CLASSES
from har_demo.timeline import Timeline


def flickering_timeline(duration_s: float, stride_s: float, fps: float = 25.0) -> Timeline:
    """Two models whose top class changes at almost every window: the most segments there can be."""
    stride, span = int(round(stride_s * fps)), int(round(4.0 * fps))
    starts = np.arange(0, int(duration_s * fps) - span + 1, stride, dtype=np.int64)
    rng = np.random.default_rng(1)
    probabilities = {}
    for model in ("convlstm", "lrcn"):
        top = rng.integers(0, len(REPORT_CLASSES), size=len(starts))
        p = np.full((len(starts), len(REPORT_CLASSES)), 0.1, dtype=np.float32)
        p[np.arange(len(starts)), top] = 0.7
        probabilities[model] = p
    return Timeline(
        source="synthetic",
        classes=list(REPORT_CLASSES),
        fps=fps,
        frame_count=int(duration_s * fps),
        window_s=4.0,
        stride_s=stride_s,
        span_frames=span,
        stride_frames=stride,
        sampling="tutorial",
        start_frames=starts,
        frame_indices=starts[:, None] + np.arange(20)[None, :],
        probabilities=probabilities,
    )


def shading(fig, row_axis: str, label: str):
    return [t for t in fig.data if t.fill == "toself" and t.name == label and t.xaxis == row_axis]


def test_ten_minutes_at_the_smallest_stride_is_charted_in_seconds():
    tl = flickering_timeline(600, 0.25)  # 2385 windows
    segments = {m: tl.segments(m) for m in tl.models}
    assert all(len(s) > 1500 for s in segments.values())
    started = time.perf_counter()
    fig = plots.timeline_figure(tl)
    fig.to_json()  # what Gradio sends
    assert time.perf_counter() - started < 20  # about 1 s here; one shape per segment took 60 s for 161
    assert fig.layout.shapes == ()  # no per-segment layout objects
    per_row = len(tl.classes) * 2 + 1  # a line and a shading trace per class, one trace of segment starts
    assert len(fig.data) <= len(tl.models) * per_row


def test_every_segment_is_shaded_in_its_class_colour_on_its_row():
    tl = flickering_timeline(60, 1.0)
    fig = plots.timeline_figure(tl)
    for row, model in enumerate(tl.models, start=1):
        axis = "x" if row == 1 else f"x{row}"
        for segment in tl.segments(model):
            (trace,) = shading(fig, axis, segment.label)
            xs = np.asarray(trace.x, dtype=float).reshape(-1, 6)  # x0 x0 x1 x1 x0 gap, per rectangle
            assert np.any(np.isclose(xs[:, 0], segment.start_s) & np.isclose(xs[:, 2], segment.end_s))
            colour = plots.class_colour(tl.classes.index(segment.label))
            assert trace.fillcolor == plots._rgba(colour, plots.SEGMENT_OPACITY) and trace.hoverinfo == "skip"
        starts = [t for t in fig.data if t.name == "segment starts" and t.xaxis == axis]
        assert len(starts) == 1 and np.count_nonzero(np.isnan(np.asarray(starts[0].x, dtype=float))) == len(
            tl.segments(model)
        )


def test_wide_segments_keep_their_labels():
    tl = flickering_timeline(60, 1.0)
    for model in tl.models:  # one long run in the middle of each model's timeline
        tl.probabilities[model][20:40] = np.array([0.1, 0.1, 0.7, 0.1], dtype=np.float32)
    fig = plots.timeline_figure(tl)
    labels = [a for a in fig.layout.annotations if a.text == "Swing" and a.y == 1.08]
    assert {a.yref for a in labels} >= {"y", "y2"}
    titles = [a.text for a in fig.layout.annotations if a.text.startswith("<b>")]
    assert len(titles) == 2  # the subplot titles survive the one-time annotation update


def band(fig):
    return [t for t in fig.data if (t.name or "").startswith("true: ")]


def test_a_known_true_label_is_a_band_over_the_whole_clip_in_its_class_colour():
    """Where a clip's true label is known, the timeline shows it as a band."""
    tl = flickering_timeline(60, 1.0)
    fig = plots.timeline_figure(tl, true_label="TaiChi")
    (trace,) = band(fig)
    assert trace.name == "true: TaiChi" and trace.fill == "toself"
    xs = np.asarray(trace.x, dtype=float)
    assert xs.min() == 0.0 and np.isclose(xs.max(), tl.duration)  # the clip's whole duration
    assert trace.fillcolor == plots._rgba(plots.class_colour(tl.classes.index("TaiChi")), plots.TRUE_OPACITY)
    rows = len(tl.models) + 1  # its own thin row below the models, on the shared time axis
    assert trace.xaxis == f"x{rows}" and trace.yaxis == f"y{rows}"
    assert fig.layout[f"xaxis{rows}"].title.text == "time (s)"
    model_row = fig.layout.yaxis.domain[1] - fig.layout.yaxis.domain[0]
    band_row = fig.layout[f"yaxis{rows}"].domain[1] - fig.layout[f"yaxis{rows}"].domain[0]
    assert band_row < model_row / 4  # thin
    (text,) = [a for a in fig.layout.annotations if "true: TaiChi" in (a.text or "")]
    assert text.yref == f"y{rows}" and np.isclose(text.x, tl.duration / 2)
    per_model = [t for t in fig.data if t.fill == "toself" and t.xaxis == "x"]  # the models' rows are as before
    assert per_model and all(not t.name.startswith("true") for t in per_model)


def test_no_true_label_no_band_and_a_class_outside_the_bundle_is_grey():
    tl = flickering_timeline(60, 1.0)
    plain = plots.timeline_figure(tl)
    assert band(plain) == [] and not any("true:" in (a.text or "") for a in plain.layout.annotations)
    assert plain.layout.xaxis2.title.text == "time (s)" and "xaxis3" not in plain.layout
    (grey,) = band(plots.timeline_figure(tl, true_label="Biking"))
    assert grey.name == "true: Biking" and grey.fillcolor == plots._rgba("#9a9a9a", plots.TRUE_OPACITY)


def test_the_band_costs_no_time_on_ten_minutes():
    tl = flickering_timeline(600, 0.25)
    started = time.perf_counter()
    plots.timeline_figure(tl, true_label="Swing").to_json()
    assert time.perf_counter() - started < 20


def rectangles(trace) -> np.ndarray:
    """(start, end) of each rectangle in a filled trace (x0 x0 x1 x1 x0, gaps between)."""
    xs = np.asarray(trace.x, dtype=float)
    xs = np.append(xs, np.nan).reshape(-1, 6)
    return xs[:, [0, 2]]


def test_a_truth_in_pieces_is_a_band_of_pieces_each_in_its_class_colour_with_its_text():
    """The mixed example's truth: four pieces, one class each, one after another."""
    from har_demo.truth import Truth, TruthSegment

    tl = flickering_timeline(16, 0.25)
    pieces = [TruthSegment(4.0 * i, 4.0 * (i + 1), name) for i, name in enumerate(REPORT_CLASSES)]
    fig = plots.timeline_figure(tl, truth=Truth(tuple(pieces), "synthetic_mixed_activities.truth.json"))
    traces = band(fig)
    assert sorted(t.name for t in traces) == sorted(f"true: {c}" for c in REPORT_CLASSES)
    rows = len(tl.models) + 1
    for piece in pieces:
        (trace,) = [t for t in traces if t.name == f"true: {piece.label}"]
        np.testing.assert_allclose(rectangles(trace), [[piece.start_s, piece.end_s]])
        colour = plots.class_colour(tl.classes.index(piece.label))
        assert trace.fillcolor == plots._rgba(colour, plots.TRUE_OPACITY)
        assert trace.xaxis == f"x{rows}" and trace.yaxis == f"y{rows}"
        (text,) = [a for a in fig.layout.annotations if a.text == f"<b>true: {piece.label}</b>"]
        assert text.yref == f"y{rows}" and np.isclose(text.x, (piece.start_s + piece.end_s) / 2)


def test_a_truth_of_many_pieces_keeps_one_trace_per_class_and_costs_no_time():
    from har_demo.truth import Truth, TruthSegment

    tl = flickering_timeline(600, 0.25)
    pieces = tuple(TruthSegment(i * 0.5, (i + 1) * 0.5, REPORT_CLASSES[i % 3]) for i in range(1200))
    started = time.perf_counter()
    fig = plots.timeline_figure(tl, truth=Truth(pieces, "many.truth.json"))
    fig.to_json()
    assert time.perf_counter() - started < 20
    traces = band(fig)
    assert len(traces) == 3 and sum(len(rectangles(t)) for t in traces) == 1200
    assert not any("true:" in (a.text or "") for a in fig.layout.annotations)  # too narrow for words
