"""The app's API through gradio_client, against `app.py`'s start-up launched in the test."""

from __future__ import annotations

import csv
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from har_demo.shipped import EXAMPLES_DIR

pytestmark = pytest.mark.slow  # starts the app server (and a browser)


@pytest.fixture(scope="module")
def client(app_server):
    client = Client(app_server.url, verbose=False)
    yield client
    client.close()


def predict(client, path):
    return client.predict(handle_file(str(path)), api_name="/predict")


def test_start_up_serves_the_bundle_it_was_given(app_server, reported_bundle):
    assert app_server.engine.bundle.path == reported_bundle
    assert app_server.engine.notice == ""
    print(f"\nstart-up (load, warm, build, launch): {app_server.startup_seconds:.1f} s")


def test_predict_a_real_clip(client, real_clips):
    started = time.perf_counter()
    verdict, plot, gallery, info, result = predict(client, real_clips / "v_TaiChi_g01_c02.avi")
    elapsed = time.perf_counter() - started
    assert "Both models say TaiChi" in verdict
    assert plot["type"] == "plotly" and "TaiChi" in plot["plot"]
    assert len(gallery) == 20 and gallery[0]["caption"] == "frame 0 · 0.00 s"
    assert gallery[-1]["caption"] == "frame 152 · 6.08 s"
    assert "Time:" in info and "Device:" in info
    assert result["models"]["lrcn"]["top"] == "TaiChi" and result["frame_indices"][1] == 8
    s = result["seconds"]
    print(
        f"\nend to end {elapsed * 1000:.0f} ms; decode {s['decode'] * 1000:.0f} ms, "
        f"ConvLSTM {s['convlstm'] * 1000:.0f} ms, LRCN {s['lrcn'] * 1000:.0f} ms"
    )


def test_bad_input_gets_a_message_and_the_app_keeps_serving(client, tmp_path, real_clips):
    not_a_video = tmp_path / "homework.mp4"
    not_a_video.write_text("not a video at all\n" * 100)
    with pytest.raises(AppError, match="could not be opened as a video"):  # a Gradio error through the API
        predict(client, not_a_video)
    verdict, *_ = predict(client, real_clips / "v_Swing_g01_c05.avi")
    assert "Swing" in verdict


def test_several_users_at_once(client, real_clips):
    clips = [real_clips / f"v_{c}.avi" for c in ("TaiChi_g01_c02", "Swing_g01_c05", "WalkingWithDog_g01_c03")]
    clips += sorted(EXAMPLES_DIR.glob("synthetic_[A-Z]*.webm"))[:3]
    started = time.perf_counter()
    with ThreadPoolExecutor(len(clips)) as pool:
        results = list(pool.map(lambda p: predict(client, p), clips))
    elapsed = time.perf_counter() - started
    for path, (verdict, _plot, gallery, _info, result) in zip(clips, results):
        assert len(gallery) == 20 and verdict, path
        assert result["source"] == path.name
    assert "Both models say TaiChi" in results[0][0]
    print(f"\n{len(clips)} concurrent predictions in {elapsed:.2f} s")


def test_a_long_timeline_does_not_block_a_prediction(client, real_clips):
    long_job = client.submit(
        handle_file(str(real_clips / "long_mixed_activities.mp4")), 2.0, 0.25, api_name="/timeline"
    )
    time.sleep(0.3)
    started = time.perf_counter()
    verdict, *_ = predict(client, real_clips / "v_WalkingWithDog_g01_c03.avi")
    predict_seconds = time.perf_counter() - started
    predict_done_first = not long_job.done()
    summary, plot, files, *segments = long_job.result(timeout=300)
    timeline_seconds = time.perf_counter() - started
    assert "WalkingWithDog" in verdict
    assert "windows of 2 s every 0.25 s" in summary
    print(f"\nprediction {predict_seconds:.2f} s while a {timeline_seconds:.1f} s timeline ran")
    assert predict_done_first or predict_seconds < timeline_seconds


def test_timeline_api_exports(client, real_clips):
    summary, plot, files, convlstm_segments, lrcn_segments, *left_over = client.predict(
        handle_file(str(real_clips / "long_mixed_activities.mp4")), 4.0, 1.0, api_name="/timeline"
    )
    assert "27 windows of 4 s every 1 s" in summary
    assert plot["type"] == "plotly"
    by_suffix = {str(f).rsplit(".", 1)[-1]: f for f in files}
    rows = list(csv.reader(open(by_suffix["csv"])))
    assert rows[0][:4] == ["window", "start_s", "end_s", "convlstm_WalkingWithDog"]
    assert rows[0][-2:] == ["convlstm_top", "lrcn_top"] and len(rows) == 28
    assert "ConvLSTM" in convlstm_segments and "| time | activity |" in lrcn_segments
    assert left_over == ["", ""]  # the slots a two-model bundle leaves over


def test_misclassified_api_filters(client, reported):
    gallery, message = client.predict("LRCN", "All classes", api_name="/misclassified")
    assert len(gallery) == len(reported.report.models["lrcn"].misclassified)
    assert all(item["caption"].startswith("LRCN") for item in gallery)
    assert "group split" in message


def test_the_bundle_folder_is_not_published(app_server, reported_bundle, client):
    """Only the strips the page returns are served, never manifest, report or model files."""
    import urllib.error
    import urllib.request

    gallery, _ = client.predict("All models", "All classes", api_name="/misclassified")
    assert gallery  # the strips still reach the page
    for name in ("manifest.json", "report.json", "convlstm.keras", "lrcn.keras", "misclassified"):
        path = reported_bundle / name
        assert path.exists(), name
        try:
            with urllib.request.urlopen(f"{app_server.url}gradio_api/file={path}", timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status in (403, 404), f"{name} is served ({status})"


def test_many_users_downloading_the_same_frames_get_whole_files(app_server, tmp_path):
    """Concurrent answers for the same clip, downloaded as a browser does, are all complete
    images (Gradio rewrote one content-hashed file per frame while others streamed it)."""
    import cv2

    clip = EXAMPLES_DIR / "synthetic_TaiChi.webm"
    users = 8

    def one(i):
        client = Client(app_server.url, verbose=False, download_files=str(tmp_path / f"user{i}"))
        try:
            return [predict(client, clip)[2] for _ in range(3)]
        finally:
            client.close()

    with ThreadPoolExecutor(users) as pool:
        answers = [g for per_user in pool.map(one, range(users)) for g in per_user]
    assert len(answers) == 3 * users
    for gallery in answers:
        assert len(gallery) == 20
        for item in gallery:
            image = cv2.imread(str(item["image"]))
            assert image is not None and image.shape == (64, 64, 3), item


def test_mcp_schema_lists_the_predict_and_timeline_tools(app_server):
    """The app launches with Gradio's MCP server: assistants get predict and timeline as tools."""
    import json
    import urllib.request

    with urllib.request.urlopen(app_server.url + "gradio_api/mcp/schema", timeout=30) as response:
        schema = json.loads(response.read())
    tools = {tool["name"]: tool for tool in schema}
    handlers = {fn.api_name: fn.fn.__name__ for fn in app_server.demo.fns.values() if fn.api_name and fn.fn}
    for endpoint in ("predict", "timeline"):  # a tool is named after its endpoint's handler
        tool = tools.get(handlers[endpoint])
        assert tool is not None, (endpoint, sorted(tools))
        assert tool["description"] and tool["inputSchema"]["properties"], tool


def test_mcp_schema_offers_no_studio_tool(app_server):
    """Training, pushing, importing and the page's own refreshes are for the page (and gradio_client),
    not tools an assistant is offered: their endpoints are undocumented, so MCP leaves them out."""
    import json
    import urllib.request

    with urllib.request.urlopen(app_server.url + "gradio_api/mcp/schema", timeout=30) as response:
        tools = {tool["name"] for tool in json.loads(response.read())}
    handlers = {fn.api_name: fn.fn.__name__ for fn in app_server.demo.fns.values() if fn.api_name and fn.fn}
    studio = {name: handler for name, handler in handlers.items() if name.startswith("studio_")}
    assert {"studio_train", "studio_push", "studio_import", "studio_upload", "studio_record"} <= set(studio)
    offered = {name for name, handler in studio.items() if handler in tools}
    assert not offered, f"studio endpoints offered as MCP tools: {sorted(offered)}"
    assert handlers["models"] not in tools
    assert handlers["predict"] in tools and handlers["timeline"] in tools
    documented = app_server.demo.get_api_info()["named_endpoints"]
    assert not [name for name in documented if name.lstrip("/").startswith("studio_")]


def test_every_child_of_the_tab_bar_is_a_tab(app_server):
    """A component placed directly in gr.Tabs is taken for a tab by the front end: the studio's
    session State once made the tab bar show "Train" twice (or in the Models tab's place)."""
    config = app_server.demo.config
    kinds = {component["id"]: component["type"] for component in config["components"]}

    def tab_bars(node):
        if kinds.get(node["id"]) == "tabs":
            yield node
        for child in node.get("children", []):
            yield from tab_bars(child)

    bars = list(tab_bars(config["layout"]))
    assert bars
    for bar in bars:
        assert [kinds[child["id"]] for child in bar["children"]] == ["tabitem"] * len(bar["children"])
