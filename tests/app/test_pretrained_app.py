"""The app serving a bundle that holds the pretrained kinds: per-model slots filled in the bundle's
order (Timeline, Explain), the attention head's weights beside frame importance, and the real
server's /predict, /explain, /timeline and Live stream on that bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from har_demo.app import timeline_tab
from har_demo.app.model_slots import MODEL_SLOTS, overflow_note, slot_models
from tests.paths import REPO

LONG_CLIP = REPO / "examples" / "synthetic_mixed_activities.webm"


def test_slots_follow_the_bundles_model_order_and_leave_the_rest_empty():
    assert slot_models(["lrcn", "pretrained_attention"]) == ["lrcn", "pretrained_attention"] + [None] * (
        MODEL_SLOTS - 2
    )
    assert MODEL_SLOTS == 4 and len(slot_models([f"m{i}" for i in range(6)])) == MODEL_SLOTS
    assert overflow_note(["a", "b"], "heat maps") == ""
    note = overflow_note(["a", "b", "c", "d", "pretrained"], "heat maps")
    assert "room for 4 models' heat maps" in note and "Pretrained LRCN" in note


def test_a_three_model_bundles_segment_tables_fill_the_first_three_boxes():
    view = timeline_tab.TimelineView(
        ok=True, summary="s", segments={m: f"**{m}** table" for m in ("lrcn", "pretrained", "pretrained_attention")}
    )
    boxes = timeline_tab.page_outputs(view)[3:]
    assert boxes == ("**lrcn** table", "**pretrained** table", "**pretrained_attention** table", "")
    assert timeline_tab.page_outputs(timeline_tab.TimelineView(ok=False, message="no"))[3:] == ("",) * MODEL_SLOTS


def test_live_bars_name_their_models_every_few_updates_in_the_bundles_order():
    from har_demo.app.live_tab import bar_values

    labels = {m: {"TaiChi": 0.9, "Swing": 0.1} for m in ("lrcn", "pretrained", "pretrained_attention")}
    plain = bar_values(labels, relabel=False)
    assert plain == [labels["lrcn"], labels["pretrained"], labels["pretrained_attention"], None]
    named = bar_values(labels, relabel=True)
    assert [b.label for b in named[:3]] == [
        "LRCN (smoothed)",
        "Pretrained LRCN (smoothed)",
        "Pretrained + attention (smoothed)",
    ]
    assert [b.visible for b in named] == [True, True, True, False]


# --------------------------------------------------------------------------- on a trained bundle
@pytest.fixture(scope="module")
def pretrained_engine(pretrained_bundle):
    from har_demo.app.engine import Engine
    from har_demo.inference import Predictor

    return Engine(Predictor.from_ref(pretrained_bundle))


@pytest.mark.slow
def test_explain_shows_the_attention_weights_beside_frame_importance(pretrained_engine, real_clips):
    from har_demo.app.explain_panel import ATTENTION_NOTE, attention_update, explain_video, slot_updates

    view = explain_video(pretrained_engine, real_clips / "v_Swing_g01_c05.avi")
    assert view.ok, view.message
    assert list(view.strips) == ["lrcn"]  # Grad-CAM for LRCN; the encoder models: frame importance only
    assert "**Pretrained LRCN** explains" in view.message and "frame importance only" in view.message
    assert ATTENTION_NOTE in view.message
    bars = {trace.name.split(" (")[0] for trace in view.figure.data}
    assert bars == {"LRCN", "Pretrained LRCN", "Pretrained + attention"}
    (weights,) = view.attention.data  # only the attention head has weights to show
    assert weights.name == "Pretrained + attention: attention" and len(weights.y) == 20
    assert abs(sum(weights.y) - 100) < 1e-3 and min(weights.y) > 0
    assert "add up to 100%" in view.attention.layout.title.text
    images = slot_updates(view)
    assert [i.visible for i in images] == [True, False, False, False]
    assert images[0].label == "LRCN: Grad-CAM on the frames"
    assert attention_update(view).visible


@pytest.mark.slow
def test_the_attention_weights_are_the_heads_own(pretrained_bundle, real_clips):
    """What the page draws is what the model's attention layer computes on the same frames."""
    from har_demo.clip import read_clip, to_model_input
    from har_demo.explain import explain_prediction
    from har_demo.inference import Predictor
    from har_demo.pretrained import frame_attention

    predictor = Predictor.from_ref(pretrained_bundle)
    frames = read_clip(real_clips / "v_TaiChi_g01_c02.avi", predictor.settings).frames
    explanation = explain_prediction(predictor, frames)
    model = predictor.models["pretrained_attention"]
    direct = frame_attention(model, to_model_input(frames[None], predictor.settings))[0]
    assert list(explanation.attention) == ["pretrained_attention"]
    assert np.allclose(explanation.attention["pretrained_attention"], direct, atol=1e-6)
    shuffled = frame_attention(model, to_model_input(frames[::-1][None], predictor.settings))[0]
    assert np.allclose(shuffled, direct[::-1], atol=1e-5)  # a weight belongs to its frame, wherever it is


@pytest.mark.slow
def test_the_timeline_gives_each_of_three_models_its_own_box(pretrained_engine, tmp_path):
    from har_demo.app.media import TempFiles

    view = timeline_tab.timeline_view(pretrained_engine, LONG_CLIP, 4, 2, exports=TempFiles(tmp_path))
    assert view.ok, view.message
    boxes = timeline_tab.page_outputs(view)[3:]
    assert [b.split(":")[0] for b in boxes[:3]] == ["**LRCN**", "**Pretrained LRCN**", "**Pretrained + attention**"]
    assert boxes[3] == ""
    titles = [a.text for a in view.figure.layout.annotations if a.text.startswith("<b>")]
    assert titles[:3] == ["<b>LRCN</b>", "<b>Pretrained LRCN</b>", "<b>Pretrained + attention</b>"]
    header = view.files[0].read_text().splitlines()[0]
    assert "pretrained_attention_" in header and "lrcn_" in header


# --------------------------------------------------------------------------- the real server
@pytest.fixture(scope="module")
def served(pretrained_bundle):
    from gradio_client import Client

    from har_demo.app.serve import create_demo, launch_options

    demo, engine = create_demo(str(pretrained_bundle))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_options(engine))
    client = Client(url, verbose=False)
    try:
        yield url, client
    finally:
        client.close()
        demo.close()


@pytest.mark.slow
def test_the_server_predicts_explains_and_runs_the_timeline_with_the_pretrained_kinds(served, real_clips):
    from gradio_client import handle_file

    _url, client = served
    clip = handle_file(str(real_clips / "v_HorseRace_g01_c04.avi"))
    *_, result = client.predict(clip, None, api_name="/predict")
    assert list(result["models"]) == ["lrcn", "pretrained", "pretrained_attention"]
    note, *images, importance, attention = client.predict(clip, None, api_name="/explain")
    # each slot comes as an update naming its model: a session's bundle may fill the slots differently
    assert len(images) == MODEL_SLOTS and images[0]["label"] == "LRCN: Grad-CAM on the frames"
    assert Path(images[0]["value"]).is_file() and all(not i["visible"] and i["value"] is None for i in images[1:])
    assert "Attention weights" in note and importance is not None and attention["visible"]
    figure = json.loads(attention["value"]["plot"])
    assert [t["name"] for t in figure["data"]] == ["Pretrained + attention: attention"]
    summary, _plot, files, *boxes = client.predict(handle_file(str(LONG_CLIP)), 4.0, 2.0, api_name="/timeline")
    assert len(boxes) == MODEL_SLOTS and "Pretrained + attention" in boxes[2] and boxes[3] == ""
    assert len(files) == 2 and "windows of 4 s" in summary


@pytest.mark.slow
def test_the_live_tab_streams_a_pretrained_bundle(served):
    from benchmarks.live_bench import Viewer, _update_number
    from tests.helpers import data_urls

    url, _client = served
    frames = data_urls(REPO / "examples" / "synthetic_HorseRace.webm", 40)
    viewer = Viewer(url)
    viewer.start(frames[0])
    numbers, labels = [], []
    try:
        for frame in frames[1:]:
            _, data = viewer.answer(timeout=30)
            number = _update_number(data)
            if number is not None:
                numbers.append(number)
                labels.append(data[1:4])  # a bar per model: LRCN, Pretrained LRCN, Pretrained + attention
            viewer.send(frame)
    finally:
        viewer.close()
    assert len(numbers) >= 3 and numbers == sorted(numbers), "the bars update, again and again"
    for bar in labels[-1]:
        bar = bar.get("value", bar) if bar.get("__type__") == "update" else bar  # every 4th names its model
        confidences = {c["label"]: c["confidence"] for c in bar["confidences"]}
        assert set(confidences) == {"WalkingWithDog", "TaiChi", "Swing", "HorseRace"}
        assert abs(sum(confidences.values()) - 1) < 1e-3
