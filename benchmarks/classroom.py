"""A classroom on one server: simulated students, groups and importers against the real app.

    python benchmarks/classroom.py                                  # 30 students, 15 minutes
    python benchmarks/classroom.py --students 10 --minutes 3 --linger-minutes 0.5

Why: the demo is used by a class at once: a teacher's projector, thirty laptops and
phones, five or six groups recording and training. This starts the app (`har_demo.app.serve`, as
`python app.py` does) on 127.0.0.1 with its own TMPDIR, then for `--minutes` keeps `--students`
gradio_client sessions busy, each in one role:

- viewers predict example clips and real UCF50 clips (../shared/data/real_clips) and open the
  Models and Misclassified tabs;
- `--live` of them stream real frames into the Live tab (benchmarks/live_bench.Viewer);
- `--groups` of them upload a real class set (../shared/data/real_tiny, `--clips-per-class` clips
  a class) to the Train tab and train LRCN (`--epochs`), then predict with their own models;
- `--importers` of them import the tutorial seed LRCN file and predict with it.

Students leave after a random stay (without closing the page cleanly: the idle time is the
backstop) and new ones arrive. At the end it prints the requests ok / refused with a sentence
(a "⚠" answer or a gradio error with a message) / failed (anything else), p50/p95 per endpoint,
the server's peak RSS, its temp disk at the start, peak and end, and the slots and studio folders
held `--linger-minutes` after the last student left.

Run by hand, not in CI: minutes long, and its numbers depend on the machine. Loopback only,
bounded in time (--minutes) and in count (--max-requests).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import SHARED_DATA, describe_machine, memory_status, table  # noqa: E402
from har_demo.app.misclassified_tab import ALL_CLASSES, ALL_MODELS  # noqa: E402
from har_demo.owner import folder_bytes  # noqa: E402

SERVER = """
import sys
sys.path.insert(0, {repo!r})
from har_demo.app import serve as app
demo, engine = app.create_demo()
demo.launch(server_name="127.0.0.1", server_port={port}, **app.launch_options(engine))
"""
CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]


class Tally:
    """Every request's endpoint, outcome and seconds, from every student thread."""

    def __init__(self, max_requests: int) -> None:
        self.max_requests = max_requests
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.outcomes: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "refused": 0, "failed": 0})
        self.failures: list[str] = []
        self.refusals: list[str] = []
        self.trained = 0
        self.lock = threading.Lock()

    def full(self) -> bool:
        return sum(sum(o.values()) for o in self.outcomes.values()) >= self.max_requests

    def call(self, endpoint: str, fn, *args, warning_is_refusal: bool = True, **kwargs):
        """Run one request; an answer starting with ⚠ or a gradio error with a sentence is a refusal.

        `warning_is_refusal=False` for pages whose content may start with ⚠ (the Models tab's
        synthetic-weights banner)."""
        started = time.perf_counter()
        outcome, answer = "ok", None
        try:
            answer = fn(*args, **kwargs)
            first = answer[0] if isinstance(answer, tuple | list) and answer else answer
            texts = [a for a in (answer if isinstance(answer, tuple | list) else [answer]) if isinstance(a, str)]
            if warning_is_refusal and (any(t.startswith("⚠") for t in texts) or str(first).startswith("⚠")):
                outcome = "refused"
        except Exception as exc:  # noqa: BLE001  every failure is counted, none stops the class
            text = str(exc)
            bare = "has raised an exception but has not enabled verbose error reporting" in text  # gradio's, not ours
            outcome = "refused" if len(text.split()) >= 4 and text.strip() != "None" and not bare else "failed"
            if outcome == "refused":
                with self.lock:
                    self.refusals.append(f"{endpoint}: {text[:200]}")
            if outcome == "failed":
                with self.lock:
                    self.failures.append(f"{endpoint}: {type(exc).__name__}: {text[:200]}")
        with self.lock:
            self.seconds[endpoint].append(time.perf_counter() - started)
            self.outcomes[endpoint][outcome] += 1
        return answer if outcome != "failed" else None


def start_server(tmpdir: Path, port: int, env_extra: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "GRADIO_ANALYTICS_ENABLED": "False", **env_extra}
    env.pop("HAR_DEMO_BUNDLE", None)
    log = open(tmpdir.parent / "server.log", "w")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-c", SERVER.format(repo=str(REPO), port=port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def child_pids(pid: int) -> list[int]:
    """The process ids of `pid`'s children (Linux /proc: each thread lists the children it started)."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in children.read_text().split()]
        except OSError:
            pass
    return found


def wait_for(url: str, server: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit("the app did not start")


def viewer(url: str, tally: Tally, until: float, rng: random.Random, clips: list[Path]) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    while time.monotonic() < until and not tally.full():
        clip = rng.choice(clips)
        tally.call("predict", client.predict, handle_file(str(clip)), api_name="/predict")
        if rng.random() < 0.2:
            tally.call("models", client.predict, api_name="/models", warning_is_refusal=False)
        if rng.random() < 0.1:
            # with the filters a browser sends: the endpoint is undocumented, so the client knows no defaults
            tally.call(
                "misclassified",
                client.predict,
                ALL_MODELS,
                ALL_CLASSES,
                api_name="/misclassified",
                warning_is_refusal=False,
            )
        time.sleep(rng.uniform(1, 4))


def live_viewer(url: str, tally: Tally, until: float, frames: list[str]) -> None:
    from benchmarks.live_bench import Viewer

    def stream() -> None:
        view = Viewer(url)
        view.start(frames[0])
        for frame in frames[1:]:
            if time.monotonic() >= until or tally.full():
                break
            view.send(frame)
            time.sleep(0.1)
        view.http.close()

    tally.call("live (a stream)", stream)


def group(url: str, tally: Tally, until: float, number: int, args, clips: list[Path]) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    by_class: dict[str, list[Path]] = defaultdict(list)
    for path in sorted((SHARED_DATA / "real_tiny").rglob("*.avi")):
        by_class[path.parent.name].append(path)
    for label, paths in sorted(by_class.items()):
        tally.call("studio_add_class", client.predict, label, api_name="/studio_add_class")
        chosen = paths[: args.clips_per_class]
        for group_number in (1, 2):
            half = [handle_file(str(p)) for i, p in enumerate(chosen) if i % 2 == group_number - 1]
            tally.call("studio_upload", client.predict, label, group_number, half, api_name="/studio_upload")
    answer = tally.call("studio_train", client.predict, ["lrcn"], args.epochs, True, api_name="/studio_train")
    if answer and "serves the new models" in str(answer[0]):
        with tally.lock:
            tally.trained += 1
    while time.monotonic() < until and not tally.full():
        tally.call("predict", client.predict, handle_file(str(random.choice(clips))), api_name="/predict")
        time.sleep(3)


def importer(url: str, tally: Tally, until: float, clips: list[Path]) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    seed = handle_file(str(SHARED_DATA / "tutorial_weights" / "seed_lrcn_keras3.h5"))
    tally.call("studio_import", client.predict, [seed], ", ".join(CLASSES), api_name="/studio_import")
    while time.monotonic() < until and not tally.full():
        tally.call("predict", client.predict, handle_file(str(random.choice(clips))), api_name="/predict")
        time.sleep(3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--groups", type=int, default=6)
    parser.add_argument("--importers", type=int, default=4)
    parser.add_argument("--live", type=int, default=10)
    parser.add_argument("--clips-per-class", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument(
        "--stay-minutes", type=float, default=None, help="mean stay of a viewer (default: a third of the run)"
    )
    parser.add_argument("--linger-minutes", type=float, default=5.0, help="wait after the last student left")
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--idle-s", type=float, default=None, help="HAR_DEMO_SESSION_IDLE_S for the app")
    args = parser.parse_args(argv)
    if not (SHARED_DATA / "real_tiny").is_dir():
        raise SystemExit(f"{SHARED_DATA / 'real_tiny'} is missing")

    from benchmarks.live_bench import real_frames

    work = Path(tempfile.mkdtemp(prefix="har-classroom-"))
    tmpdir = work / "tmp"
    tmpdir.mkdir()
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # real_tiny's clips run up to ~12 s; a class records 2-4 s clips, so the studio's 10 s is raised here
    env = {"HAR_STUDIO_MAX_CLIP_SECONDS": "15"}
    if args.idle_s:
        env["HAR_DEMO_SESSION_IDLE_S"] = str(args.idle_s)
    server = start_server(tmpdir, port, env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url, server)
        disk_start = folder_bytes(tmpdir)
        clips = sorted((REPO / "examples").glob("*.webm")) + sorted((SHARED_DATA / "real_clips").glob("*.avi"))
        frames = real_frames(SHARED_DATA / "real_clips", 300)
        tally = Tally(args.max_requests)
        peak = {"rss": 0, "disk": disk_start, "children": 0}
        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.wait(1.0):
                peak["rss"] = max(peak["rss"], memory_status(server.pid).get("VmHWM", 0))
                # the studio's training child processes hold their own TensorFlow
                held = sum(memory_status(child).get("VmRSS", 0) for child in child_pids(server.pid))
                peak["children"] = max(peak["children"], held)
                peak["disk"] = max(peak["disk"], folder_bytes(tmpdir))

        threading.Thread(target=sample, daemon=True).start()
        end = time.monotonic() + args.minutes * 60
        stay = (args.stay_minutes or args.minutes / 3) * 60
        rng = random.Random(27)
        roles = ["group"] * args.groups + ["importer"] * args.importers + ["live"] * args.live
        roles = (roles + ["viewer"] * args.students)[: args.students]
        threads: list[threading.Thread] = []

        def student(role: str, seed: int) -> None:
            """One seat: a student with this role, then (after they leave) the next one in their seat."""
            local = random.Random(seed)
            while time.monotonic() < end and not tally.full():
                leave = min(end, time.monotonic() + local.expovariate(1 / stay)) if role == "viewer" else end
                if role == "viewer":
                    viewer(url, tally, leave, local, clips)
                elif role == "live":
                    live_viewer(url, tally, min(end, time.monotonic() + 60), frames)
                    time.sleep(local.uniform(5, 20))
                    continue
                elif role == "group":
                    group(url, tally, leave, seed, args, clips)
                else:
                    importer(url, tally, leave, clips)

        for role in roles:
            thread = threading.Thread(target=student, args=(role, rng.randrange(10**9)), daemon=True)
            thread.start()
            threads.append(thread)
            time.sleep(0.5)  # the class arrives over a few seconds
        for thread in threads:
            thread.join(timeout=max(0.0, end - time.monotonic()) + 900)
        left_at = time.monotonic()
        time.sleep(args.linger_minutes * 60)
        stop_sampling.set()
        from gradio_client import Client

        room = Client(url, verbose=False).predict(api_name="/studio_room")
        studio = tmpdir / "har-studio"
        folders = sorted(p.name for p in studio.iterdir()) if studio.is_dir() else []
        disk_end = folder_bytes(tmpdir)

        rows = []
        for endpoint in sorted(tally.seconds):
            seconds = sorted(tally.seconds[endpoint])
            p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]
            o = tally.outcomes[endpoint]
            rows.append(
                [endpoint, o["ok"], o["refused"], o["failed"], f"{statistics.median(seconds):.2f}", f"{p95:.2f}"]
            )
        describe_machine()  # prints itself
        print(
            f"{args.students} students ({args.groups} groups, {args.importers} importers, {args.live} live), "
            f"{args.minutes:g} min, then {args.linger_minutes:g} min after the last left "
            f"({time.monotonic() - left_at:.0f} s)"
        )
        table("Requests", ["endpoint", "ok", "refused", "failed", "p50 s", "p95 s"], rows)  # prints itself
        totals = {k: sum(o[k] for o in tally.outcomes.values()) for k in ("ok", "refused", "failed")}
        print(f"all: {totals['ok']} ok, {totals['refused']} refused with a sentence, {totals['failed']} failed")
        print(f"groups whose training was served: {tally.trained} of {min(args.groups, args.students)}")
        print(f"server peak RSS: {peak['rss'] / 2**30:.2f} GB")
        print(f"training child processes, peak RSS together: {peak['children'] / 2**30:.2f} GB")
        print(
            f"temp disk: {disk_start / 2**20:.1f} MB at start, {peak['disk'] / 2**20:.1f} MB peak, "
            f"{disk_end / 2**20:.1f} MB at the end ({(disk_end - disk_start) / 2**20:+.1f} MB)"
        )
        print(f"after: {room}")
        print(f"studio session folders left: {len(folders)}")
        for child in sorted(tmpdir.iterdir()):
            print(f"  {child.name}: {folder_bytes(child) / 2**20:.1f} MB at the end")
        for refusal in tally.refusals[:5]:
            print("refused:", refusal)
        for failure in tally.failures[:10]:
            print("failed:", failure)
        return 0 if totals["failed"] == 0 else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
