"""The studio's trainer: real Keras training of a tiny synthetic set through train_bundle, queued, stoppable."""

from __future__ import annotations

import json

import pytest

from har_demo.studio.classset import ClassSet
from har_demo.studio.errors import LimitReached, TrainingRefused
from har_demo.studio.limits import StudioLimits
from har_demo.studio.trainer import StudioTrainer, TrainOptions
from tests.helpers import make_set

CLASSES = ("TaiChi", "Swing", "HorseRace")


@pytest.mark.slow
def test_two_sessions_train_one_after_the_other_each_into_its_own_bundle(tmp_path):
    from har_demo.loader import load_bundle

    trainer = StudioTrainer(StudioLimits())
    a = make_set(tmp_path / "a", seed=1)
    b = make_set(tmp_path / "b", seed=2)
    first = trainer.start("alice", a, TrainOptions(models=("lrcn",), epochs=2))
    with pytest.raises(TrainingRefused):
        trainer.start("alice", a)  # one at a time per session
    second = trainer.start("bob", b, TrainOptions(models=("lrcn",), epochs=1))
    events_a = list(first.events())
    events_b = list(second.events())
    assert [e.epoch for e in events_a if e.kind == "epoch"] == [1, 2]
    started = next(e for e in events_a if e.kind == "started")
    assert started.message.endswith("2 epochs, starting from the shipped models' weights."), started.message
    assert events_a[-1].kind == "done", events_a[-1].message
    assert any(e.kind == "queued" and e.position == 1 for e in events_b), [e.kind for e in events_b]
    done_a, done_b = events_a[-1], events_b[-1]
    assert done_b.kind == "done" and done_a.bundle != done_b.bundle
    assert done_a.bundle.parent.parent == a.folder and done_b.bundle.parent.parent == b.folder
    epoch = [e for e in events_a if e.kind == "epoch"][-1]
    assert len(epoch.history["lrcn"]["loss"]) == 2 and epoch.seconds_left == pytest.approx(0, abs=1e-6)
    manifest = json.loads((done_a.bundle / "manifest.json").read_text())
    assert manifest["classes"] == sorted(CLASSES) and manifest["split"]["kind"] == "tiny"
    assert manifest["training"]["epochs"] == 2 and manifest["training"]["augment"]["enabled"]
    assert manifest["dataset"]["name"] == "studio"
    assert manifest["training"]["init_from"] == "weights"  # a tiny set starts from the shipped weights
    assert done_a.report["models"]["lrcn"]["warm_start"]["from"] == "the shipped weights"
    test = done_a.report["models"]["lrcn"]["test"]
    assert test["clips"] == 6 and sum(map(sum, test["confusion"])) == 6  # one held-out group (2 clips) a class
    bundle = load_bundle(done_a.bundle)
    from har_demo.app.models_tab import provenance_markdown

    assert "**Started from:** LRCN from the shipped weights" in provenance_markdown(bundle)  # the Models tab says so
    probs = bundle.models["lrcn"].predict(a.frame_cache().frames[:1] / 255.0, verbose=0)
    assert probs.shape == (1, 3)


@pytest.mark.slow
def test_stop_keeps_the_model_trained_so_far(tmp_path):
    trainer = StudioTrainer(StudioLimits())
    s = make_set(tmp_path / "s", clips_per_group=1, seed=3)
    job = trainer.start("carol", s, TrainOptions(models=("lrcn", "convlstm"), epochs=20))
    events = []
    for event in job.events():
        events.append(event)
        if event.kind == "epoch":
            job.stop()
    done = events[-1]
    assert done.kind == "done" and done.stopped, done.message
    manifest = json.loads((done.bundle / "manifest.json").read_text())
    assert list(manifest["models"]) == ["lrcn"]  # stopped in the first model: the second never starts
    assert len(done.history["lrcn"]["loss"]) < 20  # stopped long before its 20 epochs


@pytest.mark.slow
def test_lrcn_trains_first_and_is_ready_to_serve_while_convlstm_trains(tmp_path):
    from har_demo.loader import load_bundle

    trainer = StudioTrainer(StudioLimits())
    s = make_set(tmp_path / "s", clips_per_group=1, seed=4)
    job = trainer.start("erin", s, TrainOptions(models=("convlstm", "lrcn"), epochs=1))
    events = list(job.events())
    kinds = [e.kind for e in events]
    assert kinds[-1] == "done", events[-1].message
    assert [e.model for e in events if e.kind == "epoch"] == ["lrcn", "convlstm"]  # the cheaper one first
    ready = events[kinds.index("ready")]
    assert kinds.index("ready") < len(kinds) - 2 and events[kinds.index("ready") + 1].model == "convlstm"
    assert list(ready.report["models"]) == ["lrcn"] and ready.message.startswith("LRCN trained in")
    early = load_bundle(ready.bundle)  # a whole bundle: hashes checked, its own report
    assert list(early.models) == ["lrcn"] and ready.bundle != events[-1].bundle
    assert list(json.loads((events[-1].bundle / "manifest.json").read_text())["models"]) == ["lrcn", "convlstm"]
    lrcn_epoch = next(e for e in events if e.kind == "epoch")
    assert lrcn_epoch.seconds_left > 0  # ConvLSTM's epoch is still to come


def test_refusals_come_before_anything_runs(tmp_path):
    trainer = StudioTrainer(StudioLimits(max_epochs=5, max_train_seconds=0))
    s = ClassSet(tmp_path / "s")
    with pytest.raises(TrainingRefused):
        trainer.start("dave", s)
    s.add_class("Waving")
    with pytest.raises(TrainingRefused):
        trainer.start("dave", s)
    with pytest.raises(LimitReached):
        trainer.start("dave", s, TrainOptions(epochs=6))
    with pytest.raises(TrainingRefused):
        trainer.start("dave", s, TrainOptions(models=("resnet",)))
