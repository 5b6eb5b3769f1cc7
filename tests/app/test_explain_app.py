"""Predict tab additions through the real app's API: the threshold changes the verdict, /explain."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from tests.paths import REPO


@pytest.fixture(scope="module")
def client():
    from har_demo.app.serve import create_demo, launch_options

    demo, engine = create_demo(str(REPO / "weights"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, **launch_options(engine))
    client = Client(url, verbose=False)
    yield client
    client.close()
    demo.close()


@pytest.mark.slow
def test_the_threshold_changes_the_verdict(client, real_clips: Path) -> None:
    verdict, _plot, _gallery, _info, result = client.predict(
        handle_file(str(real_clips / "v_TaiChi_g01_c02.avi")), api_name="/predict"
    )
    assert "✓" not in verdict and ("sure" in verdict)
    low = client.predict(result, 0.0, api_name="/verdict")
    high = client.predict(result, 1.0, api_name="/verdict")
    assert "not sure" not in low.split("\n\n")[0]
    assert "not sure" in high and low != high


@pytest.mark.slow
def test_explain_returns_heat_maps_and_frame_importance(client, real_clips: Path, tmp_path: Path) -> None:
    note, *images, plot, attention = client.predict(
        handle_file(str(real_clips / "v_Swing_g01_c05.avi")), None, api_name="/explain"
    )
    assert "Grad-CAM" in note and len(images) == 4 and all(Path(i["value"]).is_file() for i in images[:2])
    assert [i["label"] for i in images[:2]] == ["ConvLSTM: Grad-CAM on the frames", "LRCN: Grad-CAM on the frames"]
    assert [i["visible"] for i in images] == [True, True, False, False]  # two slots left over, hidden
    assert plot is not None and not attention["visible"]  # no attention head in the shipped bundle
    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(Exception, match="could not be opened|video"):
        client.predict(handle_file(str(bad)), None, api_name="/explain")


@pytest.mark.slow
def test_annotated_video_and_subtitles_match_the_timeline(client) -> None:
    import json
    import re

    import cv2

    from har_demo.annotate import timeline_from_dict

    video = REPO / "examples" / "synthetic_mixed_activities.webm"
    summary, _plot, downloads, *_ = client.predict(handle_file(str(video)), 4.0, 1.0, api_name="/timeline")
    (json_path,) = [p for p in downloads if str(p).endswith(".json")]
    timeline = timeline_from_dict(json.loads(Path(json_path).read_text()))
    player, files = client.predict(
        handle_file(str(video)), [handle_file(str(p)) for p in downloads], api_name="/annotate"
    )
    mp4 = Path(player["value"])  # an update: the mp4 and its subtitles
    vtt = Path(player["subtitles"]).read_text()
    cap = cv2.VideoCapture(str(mp4))
    count = 0
    while cap.grab():
        count += 1
    cap.release()
    assert count == timeline.frame_count
    cues = re.findall(r"(\d\d):(\d\d):(\d\d\.\d{3}) --> .*\n(.+)", vtt)
    assert cues
    for h, m, s, text in cues:
        t = int(h) * 3600 + int(m) * 60 + float(s) + 1e-3
        for model, name in (("convlstm", "ConvLSTM"), ("lrcn", "LRCN")):
            (segment,) = [x for x in timeline.segments(model) if x.start_s <= t < x.end_s]
            assert f"{name}: {segment.label}" in text
    assert len(files) == 2


@pytest.mark.slow
def test_every_api_output_is_labelled_and_bad_input_is_an_error(client, tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/predict", "/verdict", "/explain", "/timeline", "/annotate"} <= set(endpoints)
    assert "/live" not in endpoints  # the stream's per-frame handler: callable, not documented
    for name, endpoint in endpoints.items():
        labels = [r["label"] for r in endpoint["returns"]]
        assert not [x for x in labels if x.startswith("value_")], (name, labels)
    bad = tmp_path / "homework.mp4"
    bad.write_text("not a video\n" * 50)
    with pytest.raises(AppError, match="could not be opened"):
        client.predict(handle_file(str(bad)), 4.0, 1.0, api_name="/timeline")
    with pytest.raises(AppError, match="Run the timeline first"):
        client.predict(handle_file(str(REPO / "examples" / "synthetic_TaiChi.webm")), [], api_name="/annotate")
