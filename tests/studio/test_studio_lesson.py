"""The lesson on the Train tab: people per class, warnings before training, the held-out curve, next person."""

from __future__ import annotations

import numpy as np
import pytest

from har_demo.app.studio_camera import MAX_IN_A_ROW, RECORD_JS
from har_demo.app.studio_lesson import HELD_OUT_LABEL, counts_and_warnings, lesson_curves
from har_demo.studio import lesson
from har_demo.studio.classset import ClassSet
from har_demo.training.synth import render_clip, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("lesson") / "clip.avi"
    write_video(path, render_clip("TaiChi", np.random.default_rng(0), width=96, height=72, seconds=1.0))
    return path


def filled(folder, clip, plan: dict[str, list[int]]) -> ClassSet:
    """A set with one clip per entry of plan[label] (the entry is its group)."""
    s = ClassSet(folder)
    for label, groups in plan.items():
        s.add_class(label)
        for group in groups:
            s.add_clip(label, clip, group)
    return s


def test_counts_show_people_per_class_and_warn_about_one_person_and_imbalance(tmp_path, clip):
    s = filled(tmp_path / "a", clip, {"Jumping": [1, 1, 2, 2, 3, 3], "Waving": [1, 1]})
    text = counts_and_warnings(s)
    assert text.startswith("**Jumping**: 6 clips, 3 people · **Waving**: 2 clips, 1 person")
    assert "unbalanced: Jumping has 6 clips and Waving 2" in text
    assert "Waving has clips of one person only" in text and "memory, not recognition" in text
    assert lesson.single_person_classes(s) == ["Waving"]
    fine = filled(tmp_path / "b", clip, {"Jumping": [1, 2, 2], "Waving": [1, 2]})
    assert lesson.warnings(fine) == [] and "⚠" not in counts_and_warnings(fine)


def test_the_evaluation_says_a_one_person_class_measures_memory():
    assert lesson.memory_caveat([]) == ""
    text = lesson.memory_caveat(["Waving"])
    assert "Waving was recorded by one person only" in text and "memory, not recognition" in text


def test_next_person_is_a_group_no_class_uses_and_the_banner_names_class_and_person(tmp_path, clip):
    s = filled(tmp_path / "c", clip, {"Jumping": [1, 1, 2], "Waving": [1]})
    assert s.next_group() == 3
    text = lesson.banner_markdown(s, "Jumping", 2)
    assert (
        "Recording: **Jumping** · person (group) 2" in text and "3 clips of 2 people; 1 of them by this person" in text
    )
    assert lesson.banner_markdown(s, None, 1).startswith("### Add a class")


def test_the_curves_draw_held_out_accuracy_beside_training_accuracy():
    figure = lesson_curves({"lrcn": {"loss": [1.2, 0.8], "accuracy": [0.5, 0.9], "held_out_accuracy": [0.4, 0.5]}})
    names = {trace.name for trace in figure.data}
    assert "LRCN train" in names and f"LRCN {HELD_OUT_LABEL}" in names
    held = next(t for t in figure.data if t.name == f"LRCN {HELD_OUT_LABEL}")
    assert list(held.y) == [0.4, 0.5] and held.line.dash == "dash"


def test_record_takes_a_count_of_clips_in_a_row():
    assert RECORD_JS.startswith("(seconds, count) =>") and f"Math.min({MAX_IN_A_ROW}," in RECORD_JS
    assert "Clip ${k} of ${takes}" in RECORD_JS


@pytest.mark.slow
def test_the_trainer_reports_held_out_accuracy_every_epoch_ending_at_the_evaluation(tmp_path, clip):
    from har_demo.studio.limits import StudioLimits
    from har_demo.studio.trainer import StudioTrainer, TrainOptions

    rng = np.random.default_rng(3)
    s = ClassSet(tmp_path / "t")
    for label in ("TaiChi", "Swing"):
        s.add_class(label)
        for group in (1, 2):
            for i in range(2):
                path = tmp_path / "in" / f"{label}{group}{i}.webm"
                write_video(path, render_clip(label, rng, width=96, height=72, seconds=1.0))
                s.add_clip(label, path, group)
    job = StudioTrainer(StudioLimits()).start("dana", s, TrainOptions(models=("lrcn",), epochs=2))
    events = list(job.events())
    done = events[-1]
    assert done.kind == "done", done.message
    epochs = [e for e in events if e.kind == "epoch"]
    curve = epochs[-1].history["lrcn"]["held_out_accuracy"]
    assert len(curve) == 2 and "held-out" in epochs[-1].message
    assert curve[-1] == pytest.approx(done.report["models"]["lrcn"]["test"]["accuracy"], abs=1e-3)
