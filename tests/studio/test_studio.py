"""The studio library: class sets of real video files, zip out and in, sessions, limits (no training here)."""

from __future__ import annotations

import os
import stat
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from har_demo.clip import read_clip
from har_demo.studio.archive import export_zip, import_zip
from har_demo.studio.classset import ClassSet
from har_demo.studio.errors import ArchiveRefused, ClipRefused, LimitReached, NameRefused, StudioError
from har_demo.studio.limits import StudioLimits
from har_demo.studio.sessions import MARKER, StudioSessions
from har_demo.training.synth import render_clip, write_video


def synth_clip(path: Path, label: str = "TaiChi", seed: int = 0, seconds: float = 1.0, size=(160, 120)) -> Path:
    frames = render_clip(label, np.random.default_rng(seed), width=size[0], height=size[1], seconds=seconds)
    write_video(path, frames)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "taichi": synth_clip(folder / "taichi.webm", "TaiChi", 1),
        "swing": synth_clip(folder / "swing.avi", "Swing", 2),
        "long": synth_clip(folder / "long.avi", "Swing", 3, seconds=4.0),
    }


def new_set(tmp_path: Path, **limits) -> ClassSet:
    return ClassSet(tmp_path / "session", StudioLimits(**limits))


def test_classes_are_validated_folder_names(tmp_path):
    s = new_set(tmp_path, max_classes=2)
    assert s.add_class(" Waving ") == "Waving"
    assert s.add_class("Waving") == "Waving"  # already there: nothing changes
    for bad in ("", "../etc", "two words", "9lives", "a/b", "x" * 41):
        with pytest.raises(NameRefused):
            s.add_class(bad)
    with pytest.raises(NameRefused):
        s.add_class("waving")  # differs only by case
    s.add_class("Clapping")
    with pytest.raises(LimitReached):
        s.add_class("Jumping")
    assert s.classes == ["Clapping", "Waving"]


def test_a_clip_is_decoded_on_arrival_and_stored_in_the_ucf_layout(tmp_path, clips):
    s = new_set(tmp_path)
    s.add_class("Waving")
    first = s.add_clip("Waving", clips["taichi"], group=2)
    second = s.add_clip("Waving", clips["swing"], group=2)
    third = s.add_clip("Waving", clips["taichi"], group=3)
    assert [first.name, second.name, third.name] == [
        "v_Waving_g02_c01.webm",
        "v_Waving_g02_c02.avi",
        "v_Waving_g03_c01.webm",
    ]
    stored = s.data / "Waving" / first.name  # the container rewritten to its own length (studio/stored_copy.py)
    assert np.array_equal(read_clip(stored, s.settings).frames, read_clip(clips["taichi"], s.settings).frames)
    assert first.thumbnail.is_file() and 0.9 < first.seconds < 1.1
    assert s.counts() == {"Waving": 3} and s.groups() == {"Waving": [2, 3]}
    cache = s.frame_cache()
    assert cache.frames.shape == (3, 20, 64, 64, 3) and cache.frames.dtype == np.uint8
    assert cache.paths[0] == "Waving/v_Waving_g02_c01.webm" and cache.groups == ["Waving/g02"] * 2 + ["Waving/g03"]
    # the cached frames are the clip pipeline's own
    assert np.array_equal(cache.frames[0], read_clip(clips["taichi"]).frames)
    s.delete_clip("Waving", second.name)
    assert [c.name for c in s.clips()] == [first.name, third.name]
    assert s.frame_cache().frames.shape[0] == 2


def test_bad_clips_are_refused_with_a_sentence_and_change_nothing(tmp_path, clips):
    s = new_set(tmp_path, max_clip_seconds=3, max_clips_per_class=1, max_upload_mb=0.5)
    s.add_class("Waving")
    not_video = tmp_path / "homework.mp4"
    not_video.write_text("not a video\n" * 50)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    cases = [(not_video, ClipRefused), (text, ClipRefused), (clips["long"], ClipRefused)]
    for path, error in cases:
        with pytest.raises(error) as caught:
            s.add_clip("Waving", path)
        assert str(caught.value).endswith(".") and len(str(caught.value)) > 20
    with pytest.raises(NameRefused):
        s.add_clip("Nobody", clips["taichi"])
    with pytest.raises(ClipRefused):
        s.add_clip("Waving", clips["taichi"], group=100)
    assert s.clips() == []
    s.add_clip("Waving", clips["taichi"])
    with pytest.raises(LimitReached):
        s.add_clip("Waving", clips["swing"])
    big = tmp_path / "big.avi"
    big.write_bytes(b"\0" * 600_000)
    with pytest.raises(LimitReached):
        s.add_clip("Waving", big)
    assert s.counts() == {"Waving": 1}


def test_zip_export_then_import_round_trips(tmp_path, clips):
    s = new_set(tmp_path)
    for label, key in (("Waving", "taichi"), ("Clapping", "swing")):
        s.add_class(label)
        s.add_clip(label, clips[key], group=1)
        s.add_clip(label, clips[key], group=2)
    archive = export_zip(s, tmp_path / "set.zip")
    assert sorted(zipfile.ZipFile(archive).namelist()) == [
        "Clapping/v_Clapping_g01_c01.avi",
        "Clapping/v_Clapping_g02_c01.avi",
        "Waving/v_Waving_g01_c01.webm",
        "Waving/v_Waving_g02_c01.webm",
    ]
    other = ClassSet(tmp_path / "other")
    other.add_class("Old")
    import_zip(other, archive)
    assert other.counts() == {"Clapping": 2, "Waving": 2} and other.groups()["Waving"] == [1, 2]
    assert other.frame_cache().frames.shape[0] == 4
    assert not list(other.folder.glob(".import-*")), "the staging folder is removed"


def test_a_zip_with_one_top_folder_and_plain_names_imports(tmp_path, clips):
    archive = tmp_path / "mine.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(clips["taichi"], "my_set/Waving/first.webm")
        z.write(clips["swing"], "my_set/Waving/v_Waving_g04_c07.avi")
        z.writestr("my_set/Waving/.DS_Store", b"junk")
        z.writestr("__MACOSX/my_set/._first.webm", b"junk")
    s = new_set(tmp_path)
    import_zip(s, archive)
    # a UCF name keeps its group and clip number; the plain names of a class folder are one new group
    assert [(c.name, c.group) for c in s.clips()] == [("v_Waving_g04_c07.avi", 4), ("v_Waving_g05_c01.webm", 5)]


def _zip_with(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return path


def test_unsafe_or_wrong_zips_are_refused_and_change_nothing(tmp_path, clips):
    s = new_set(tmp_path, max_clips_per_class=2, max_upload_mb=1)
    s.add_class("Keep")
    s.add_clip("Keep", clips["taichi"])
    video = clips["taichi"].read_bytes()
    bad = {
        "slip": _zip_with(tmp_path / "slip.zip", {"Waving/../../evil.webm": video}),
        "absolute": _zip_with(tmp_path / "abs.zip", {"/tmp/Waving/a.webm": video}),
        "symlink": _zip_with(tmp_path / "link.zip", {"Waving/a.webm": video}, symlink="Waving/b.webm"),
        "not video": _zip_with(tmp_path / "exe.zip", {"Waving/a.webm": video, "Waving/run.sh": b"rm -rf /"}),
        "flat": _zip_with(tmp_path / "flat.zip", {"a.webm": video}),
        "bad class": _zip_with(tmp_path / "cls.zip", {"Wav ing/a.webm": video}),
        "too many": _zip_with(tmp_path / "many.zip", {f"Waving/{i}.webm": video for i in range(3)}),
        "undecodable": _zip_with(tmp_path / "junk.zip", {"Waving/a.avi": b"\1" * 2000, "Waving/b.avi": b"\0" * 2000}),
        "bomb": _zip_with(tmp_path / "bomb.zip", {"Waving/a.avi": b"\0" * 3_000_000}),
        "empty": _zip_with(tmp_path / "empty.zip", {"README.md": b"hi"}),
    }
    not_zip = tmp_path / "set.zip"
    not_zip.write_text("not a zip")
    bad["not zip"] = not_zip
    before = sorted(p.relative_to(s.folder) for p in s.folder.rglob("*"))
    for why, path in bad.items():
        with pytest.raises(ArchiveRefused) as caught:
            import_zip(s, path)
        assert isinstance(caught.value, StudioError) and str(caught.value), why
    assert sorted(p.relative_to(s.folder) for p in s.folder.rglob("*")) == before
    assert not (tmp_path / "evil.webm").exists()


def test_sessions_have_their_own_folders_and_old_ones_are_swept(tmp_path, clips):
    sessions = StudioSessions(tmp_path / "studio", StudioLimits(session_max_age_s=60))
    a, b = sessions.class_set("alice"), sessions.class_set("bob")
    a.add_class("Waving")
    a.add_clip("Waving", clips["taichi"])
    assert b.classes == [] and a.folder != b.folder
    stranger = tmp_path / "studio" / "not-ours"
    stranger.mkdir()
    old = time.time() - 120
    os.utime(a.folder / MARKER, (old, old))
    os.utime(stranger, (old, old))
    assert sessions.sweep() == ["alice"]
    assert not a.folder.exists() and b.folder.exists() and stranger.exists()
    sessions.end("bob")
    assert not b.folder.exists()
    with pytest.raises(ValueError):
        sessions.class_set("../x")


def test_limits_come_from_the_environment():
    limits = StudioLimits.from_env({"HAR_STUDIO_MAX_CLASSES": "3", "HAR_STUDIO_MAX_CLIP_SECONDS": "2.5"})
    assert limits.max_classes == 3 and limits.max_clip_seconds == 2.5 and limits.max_clips_per_class == 40
    with pytest.raises(ValueError):
        StudioLimits.from_env({"HAR_STUDIO_MAX_CLASSES": "many"})


@pytest.mark.slow
def test_a_recording_is_cut_to_the_clip_length_and_scaled_down(tmp_path):
    from har_demo.clip import read_clip
    from har_demo.studio.recording import trim_recording

    source = synth_clip(tmp_path / "recording.avi", "TaiChi", 4, seconds=3.0, size=(480, 360))
    out = trim_recording(source, tmp_path / "clip.webm", seconds=2.0, lead=0.5)
    clip = read_clip(out)
    assert clip.source_size == (320, 240) and abs(clip.duration - 2.0) < 0.1
    short = trim_recording(source, tmp_path / "short.webm", seconds=5.0)  # shorter than asked: all of it
    assert abs(read_clip(short).duration - 3.0) < 0.1
    junk = tmp_path / "junk.webm"
    junk.write_bytes(b"\0" * 1000)
    with pytest.raises(ClipRefused):
        trim_recording(junk, tmp_path / "x.webm")


# --------------------------------------------------------------------------- the page's plain logic
def test_the_page_offers_2_to_4_s_clips_within_the_hosts_limit():
    from har_demo.app.studio_camera import clip_length_range

    assert clip_length_range(10) == (2.0, 4.0, 3.0)
    assert clip_length_range(3) == (2.0, 3.0, 3.0)
    assert clip_length_range(1.5) == (1.5, 1.5, 1.5)  # a host allowing less than 2 s wins


def test_a_stopped_training_says_what_the_bundle_kept():
    from har_demo.app.studio_tab import stopped_markdown

    report = {"models": {"lrcn": {"epochs_trained": 1}}}
    assert stopped_markdown(report, ["lrcn", "convlstm"]) == (
        "**Stopped.** The bundle keeps LRCN as trained for 1 epoch. ConvLSTM was not trained."
    )
    both = {"models": {"lrcn": {"epochs_trained": 4}, "convlstm": {"epochs_trained": 2}}}
    assert stopped_markdown(both, ["lrcn", "convlstm"]) == (
        "**Stopped.** The bundle keeps LRCN as trained for 4 epochs and ConvLSTM as trained for 2 epochs."
    )


def test_misclassification_filters_follow_the_bundle():
    """A filter value the new bundle lacks (the previous bundle's class) goes back to "all"."""
    from har_demo.app.misclassified_tab import ALL_CLASSES, filter_choices
    from har_demo.bundle import Bundle, read_manifest, read_report
    from har_demo.shipped import SHIPPED_BUNDLE

    manifest = read_manifest(SHIPPED_BUNDLE)
    shipped = Bundle(SHIPPED_BUNDLE, manifest, models={}, report=read_report(SHIPPED_BUNDLE, manifest))
    models, model, classes, true_class = filter_choices(shipped, "LRCN", "TaiChi")
    assert (model, true_class) == ("LRCN", "TaiChi") and classes[1:] == shipped.classes and "ConvLSTM" in models
    assert filter_choices(shipped, "LRCN", "Waving")[1:] == (model, classes, ALL_CLASSES)


def test_example_answers_are_computed_once_per_clip(tmp_path):
    from har_demo.app.examples import ExampleAnswers

    first, copy, other = tmp_path / "a.webm", tmp_path / "copy" / "a.webm", tmp_path / "b.webm"
    copy.parent.mkdir()
    for path, data in ((first, b"clip one"), (copy, b"clip one"), (other, b"clip two")):
        path.write_bytes(data)
    answers, calls = ExampleAnswers(), []
    compute = lambda name: lambda: calls.append(name) or name  # noqa: E731
    assert answers.get(first, compute("first")) == "first"
    assert answers.get(copy, compute("copy")) == "first"  # Gradio's fresh copy of the same clip
    assert answers.get(other, compute("other")) == "other" and calls == ["first", "other"]
