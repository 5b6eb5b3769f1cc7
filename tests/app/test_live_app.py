"""The Live tab in the real app: real frames streamed over Gradio's streaming protocol."""

from __future__ import annotations

import pytest

from tests.helpers import data_urls
from tests.paths import REPO


@pytest.mark.slow
def test_live_stream_updates_bars_and_verdict() -> None:
    from benchmarks.live_bench import Viewer, _update_number
    from har_demo.app.serve import create_demo, launch_options

    demo, engine = create_demo(str(REPO / "weights"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, **launch_options(engine))
    try:
        frames = data_urls(REPO / "examples" / "synthetic_HorseRace.webm", 40)
        viewer = Viewer(url)
        viewer.start(frames[0])
        numbers, verdicts, labels = [], [], []
        for frame in frames[1:]:
            _, data = viewer.answer(timeout=30)
            number = _update_number(data)
            if number is not None:
                numbers.append(number)
                verdicts.append(data[0])
                labels.append(data[1])
            viewer.send(frame)
        viewer.close()
    finally:
        demo.close()
    assert len(numbers) >= 3 and numbers == sorted(numbers), "the bars update, again and again"
    assert any("HorseRace" in str(v) for v in verdicts[-3:]), verdicts[-3:]
    last = (
        labels[-1].get("value") if labels[-1].get("__type__") == "update" else labels[-1]
    )  # every 4th names its model
    assert isinstance(last, dict) and last.get("label"), labels[-1]
