"""Live tab benchmark: stream real frames into the real app, measure updates per second and lag.

    python benchmarks/live_bench.py                 # starts the app (weights/), 20 s of streaming
    python benchmarks/live_bench.py --url URL       # an app that is already running
    python benchmarks/live_bench.py --viewers 2     # several viewers at once (each its own session)

Each viewer speaks Gradio's streaming protocol the way the page's webcam does (gradio_client
cannot: it has no `process_streaming`): join the queue with the first frame, then post each next
frame to /gradio_api/stream/EVENT, reading the outputs from the SSE stream. The frames are real
(../shared/data/real_clips, 320x240, decoded and JPEG-encoded as a camera image would be); a viewer
sends the next frame when the previous answer is back and at most every --every seconds, like
the browser. An update is an answer whose stats line shows a new "update #n"; its lag is the time
from posting the frame (encoding as a data URL included) to receiving the bars computed from it.

Baseline, measured in the same run: both models on one clip through Predictor.predict_frames
in this process (the floor of one update); the table gives the lag's ratio to it.
Targets: >= 5 updates/s and p95 lag < 500 ms with both models on 2 cores.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import sys
import threading
import time
import uuid
from pathlib import Path

import cv2
import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
REAL_CLIPS = REPO.parent / "shared" / "data" / "real_clips"


def real_frames(folder: Path, limit: int) -> list[str]:
    """Every frame of the real clips (in turn) as JPEG data URLs (quality 0.8, like the page's canvas), up to `limit`."""
    paths: list[str] = []
    for clip in sorted(folder.glob("*.avi")):
        cap = cv2.VideoCapture(str(clip))
        while len(paths) < limit:
            ok, frame = cap.read()
            if not ok:
                break
            ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
            paths.append("data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode())
        cap.release()
    if not paths:
        raise SystemExit(f"no frames: {folder} has no .avi clips")
    return paths


class Viewer:
    """One browser session streaming frames into the `live` endpoint."""

    def __init__(self, url: str, api_name: str = "live", threshold: float = 0.7) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=30)
        config = self.http.get(f"{self.url}/config").json()
        deps = config["dependencies"]
        found = [i for i, d in enumerate(deps) if d.get("api_name") == api_name]
        if not found:
            raise SystemExit(f"the app has no {api_name!r} endpoint: is the Live tab on the page?")
        self.fn_index = found[0]
        dep = deps[self.fn_index]
        self.trigger_id = dep["targets"][0][0]
        kinds = {c["id"]: c.get("type") for c in config["components"]}
        self.inputs = [kinds.get(i) for i in dep["inputs"]]
        self.outputs = dep["outputs"]
        self.threshold = threshold
        self.session_hash = uuid.uuid4().hex[:11]
        self.messages: queue.Queue = queue.Queue()
        self.event_id: str | None = None

    def _data(self, frame: str) -> list:
        data = []
        for kind in self.inputs:
            if kind == "image":  # as the page's webcam sends a streamed frame: a JPEG data URL
                data.append({"url": frame, "path": None, "meta": {"_type": "gradio.FileData"}})
            elif kind == "slider":
                data.append(self.threshold)
            else:
                data.append(None)  # gr.State: the server keeps the session's value
        return data

    def _listen(self) -> None:
        with self.http.stream(
            "GET", f"{self.url}/gradio_api/queue/data", params={"session_hash": self.session_hash}, timeout=None
        ) as r:
            try:
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        self.messages.put((time.perf_counter(), json.loads(line[5:])))
            except httpx.HTTPError:  # the server went away at the end of the run
                return

    def start(self, frame: str) -> None:
        body = {
            "data": self._data(frame),
            "fn_index": self.fn_index,
            "session_hash": self.session_hash,
            "trigger_id": self.trigger_id,
            "event_data": None,
        }
        self.event_id = self.http.post(f"{self.url}/gradio_api/queue/join", json=body).json()["event_id"]
        threading.Thread(target=self._listen, daemon=True).start()

    def send(self, frame: str) -> None:
        body = {
            "data": self._data(frame),
            "fn_index": self.fn_index,
            "session_hash": self.session_hash,
            "event_id": self.event_id,
        }
        self.http.post(f"{self.url}/gradio_api/stream/{self.event_id}", json=body).raise_for_status()

    def answer(self, timeout: float = 10.0) -> tuple[float, list | None]:
        """(arrival time, output data) of the next streamed answer; None data for a finished stream."""
        deadline = time.perf_counter() + timeout
        while True:
            t, msg = self.messages.get(timeout=max(0.01, deadline - time.perf_counter()))
            kind = msg.get("msg")
            if kind == "process_streaming" or (kind == "process_completed" and msg.get("success")):
                return t, msg["output"].get("data")
            if kind == "process_completed":
                raise RuntimeError(f"the live endpoint failed: {msg.get('output')}")

    def close(self) -> None:
        if self.event_id:
            self.http.post(f"{self.url}/gradio_api/stream/{self.event_id}/close")


def _update_number(data: list | None) -> int | None:
    for item in data or []:
        if isinstance(item, str) and item.startswith("update #"):
            return int(item.split("#", 1)[1].split(" ", 1)[0])
    return None


def _server_lag(data: list | None) -> float | None:
    """The lag the server itself measured (frame arrival -> probabilities ready), from the stats line."""
    for item in data or []:
        if isinstance(item, str) and item.startswith("update #") and " lag " in item:
            return float(item.split(" lag ", 1)[1].split(" ms", 1)[0]) / 1000
    return None


def run_viewer(url: str, frames: list[str], seconds: float, every: float, out: dict) -> None:
    viewer = Viewer(url)
    lags, server_lags, updates, answers, last = [], [], 0, 0, 0
    start = time.perf_counter()
    i = 0
    sent = time.perf_counter()
    viewer.start(frames[0])
    try:
        while time.perf_counter() - start < seconds:
            arrived, data = viewer.answer()
            answers += 1
            number = _update_number(data)
            if number is not None and number > last:
                last, updates = number, updates + 1
                lags.append(arrived - sent)
                server_lags.append(_server_lag(data))
            time.sleep(max(0.0, every - (time.perf_counter() - sent)))  # the camera's cadence
            i += 1
            sent = time.perf_counter()
            viewer.send(frames[i % len(frames)])
    finally:
        viewer.close()
    elapsed = time.perf_counter() - start
    out.update(frames=i + 1, answers=answers, updates=updates, seconds=elapsed, lags=lags, server_lags=server_lags)


def model_floor(bundle: str, repeats: int = 30) -> float:
    """Median seconds for both models on one clip in this process: the least an update can cost."""
    from har_demo.inference import Predictor

    predictor = Predictor.from_ref(bundle)
    s = predictor.settings
    clip = np.random.default_rng(0).integers(0, 255, (1, s.frames, s.height, s.width, 3), dtype=np.uint8)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predictor.predict_frames(clip)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def start_app(bundle: str, port: int = 7893, timeout_s: float = 240.0):
    """`python -m har_demo app` in its own process (as served), on 127.0.0.1:port; returns (process, url)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "har_demo", "app", "--bundle", bundle, "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited with {process.returncode} before it served")
        try:
            if httpx.get(f"{url}/config", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    process.terminate()
    raise SystemExit(f"the app did not serve within {timeout_s:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="a running app (default: start one here)")
    parser.add_argument("--bundle", default=str(REPO / "weights"))
    parser.add_argument("--port", type=int, default=7893, help="port for the app this script starts")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=0.05, help="seconds between frames (the page's stream_every)")
    parser.add_argument("--viewers", type=int, default=1)
    parser.add_argument("--clips", type=Path, default=REAL_CLIPS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    frames = real_frames(args.clips, 2000)
    demo = None
    url = args.url
    if url is None:
        demo, url = start_app(args.bundle, args.port)
    try:
        floor = model_floor(args.bundle)
        results = [dict() for _ in range(args.viewers)]
        threads = [
            threading.Thread(target=run_viewer, args=(url, frames, args.seconds, args.every, r)) for r in results
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if demo is not None:
            demo.terminate()
            demo.wait(timeout=30)

    load = os.getloadavg()[0]
    print(
        f"live bench: {args.viewers} viewer(s), {args.seconds:g} s, a frame every {args.every:g} s, "
        f"{len(os.sched_getaffinity(0))} cores, load {load:.1f}"
    )
    print(f"baseline: both models on one clip in-process, median {1000 * floor:.1f} ms")
    print(
        "| viewer | frames sent | answers | updates/s | lag p50 ms | lag p95 ms | p95 / model floor | server part p50 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    summary = []
    for k, r in enumerate(results):
        lags = np.array(r.get("lags") or [np.nan])
        ups = r["updates"] / r["seconds"]
        p50, p95 = np.percentile(lags, 50), np.percentile(lags, 95)
        server = np.nanmedian([x if x is not None else np.nan for x in r["server_lags"]] or [np.nan])
        print(
            f"| {k + 1} | {r['frames']} | {r['answers']} | {ups:.2f} | {1000 * p50:.0f} | {1000 * p95:.0f} | "
            f"{p95 / floor:.1f}x | {1000 * server:.0f} |"
        )
        summary.append(dict(updates_per_s=ups, lag_p50_s=p50, lag_p95_s=p95, frames=r["frames"], updates=r["updates"]))
    ok = all(s["updates_per_s"] >= 5 and s["lag_p95_s"] < 0.5 for s in summary)
    print(f"targets (>= 5 updates/s, p95 lag < 500 ms): {'met' if ok else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(dict(model_floor_s=floor, viewers=summary, load=load), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
