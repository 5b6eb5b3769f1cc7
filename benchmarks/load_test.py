"""Load test of the demo app: N concurrent gradio_client users uploading clips for a fixed time.

    python benchmarks/load_test.py                          # N = 1, 4, 16; 60 s each
    python benchmarks/load_test.py --users 16 --seconds 30 --concurrency 2 --queue-size 64
    python benchmarks/load_test.py --users 16 --seconds 45 --app-repo /tmp/old-checkout   # before/after
    python benchmarks/load_test.py --users 16 --seconds 40 --clip examples/synthetic_TaiChi.webm

Why: a demo that falls over with a classroom of 30 students is not a demo. This launches the app
(app.py, as `python app.py` would) on 127.0.0.1 at a free port, waits for it, and drives its
`/predict` endpoint from N threads, each its own gradio_client, uploading real UCF50 clips
(../shared/data/real_clips) and synthetic ones in turn until the time is up. It reports
throughput, p50/p95/p99 latency and errors per N, and samples the server's RSS throughout so a
leak shows as growth from one phase to the next. Each client downloads every output file (the 20
frame images), as gradio_client does by default and as a browser does: without downloads, errors
in serving the files hide (`--no-download` turns them off). `--app-repo` serves the app of another
checkout of this repository (say, an older commit) for before/after figures.

Run by hand, not in CI: it takes minutes and its numbers depend on the machine. Traffic goes only
to 127.0.0.1, bounded in time (--seconds) and count (--max-requests). `--concurrency` and
`--queue-size` override the app's queue settings (serve.CONCURRENCY, serve.QUEUE_SIZE) for tuning.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import (  # noqa: E402
    SHARED_DATA,
    describe_machine,
    memory_status,
    synthetic_clip_paths,
    table,
)

# Starts the app as app.py's main() does, optionally with other queue settings.
SERVER = """
import sys
sys.path.insert(0, {repo!r})
from har_demo.app import serve as app
demo, engine = app.create_demo({bundle!r})
if {concurrency!r} is not None or {queue_size!r} is not None:
    demo.queue(default_concurrency_limit={concurrency!r} or app.CONCURRENCY, max_size={queue_size!r} or app.QUEUE_SIZE)
print("queue: default_concurrency_limit", {concurrency!r} or app.CONCURRENCY, "max_size", {queue_size!r} or app.QUEUE_SIZE, flush=True)
demo.launch(server_name="127.0.0.1", server_port={port}, **app.launch_options(engine))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_bundle(work: Path) -> str:
    """weights/ when it holds a bundle, else the report author's seed weights imported."""
    if (REPO / "weights" / "manifest.json").is_file():
        return str(REPO / "weights")
    seeds = [SHARED_DATA / "tutorial_weights" / f"seed_{n}_keras3.h5" for n in ("convlstm", "lrcn")]
    out = work / "seed_bundle"
    subprocess.run(
        [sys.executable, "-m", "har_demo", "import", *map(str, seeds), "--out", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return str(out)


def start_server(bundle: str, port: int, concurrency, queue_size, log: Path, repo: Path = REPO) -> subprocess.Popen:
    """The app in its own process, with its own Gradio upload cache: uploads are stored by content
    hash, so apps sharing /tmp/gradio delete each other's copies of the same clip when they exit."""
    code = SERVER.format(repo=str(repo), bundle=bundle, port=port, concurrency=concurrency, queue_size=queue_size)
    env = os.environ | {
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(log.parent / "gradio"),
    }
    env["PYTHONPATH"] = str(repo)  # the served checkout's har_demo, not an installed one
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=repo, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise SystemExit(f"the app exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(1.0)
    raise SystemExit(f"the app did not answer at {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def find_api_name(client) -> str:
    """The endpoint that takes one video: /predict in this app (looked up, not assumed)."""
    api = client.view_api(print_info=False, return_format="dict")
    named = api.get("named_endpoints", {})
    if "/predict" in named:
        return "/predict"
    for name, info in named.items():
        params = info.get("parameters", [])
        if len(params) == 1 and "Video" in str(params[0].get("component", "")):
            return name
    raise SystemExit(f"no endpoint taking one video among {', '.join(named)}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Sampler(threading.Thread):
    """The server process's RSS every half second, with the phase it belongs to."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.phase = pid, "start"
        self.samples: list[tuple[float, str, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        while not self.stop.is_set():
            rss = memory_status(self.pid).get("VmRSS")
            if rss is None:
                break
            self.samples.append((time.perf_counter() - started, self.phase, rss))
            self.stop.wait(0.5)

    def of(self, phase: str) -> list[int]:
        return [rss for _, p, rss in self.samples if p == phase]


def run_phase(
    url: str, api_name: str, users: int, clips: list[Path], seconds: float, max_requests: int, downloads
) -> dict:
    from gradio_client import Client, handle_file

    clients = [Client(url, verbose=False, download_files=downloads) for _ in range(users)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sent = [0]
    deadline = time.perf_counter() + seconds

    def user(index: int) -> None:
        k = index
        while time.perf_counter() < deadline:
            with lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            clip = clips[k % len(clips)]
            k += users
            started = time.perf_counter()
            try:
                result = clients[index].predict(handle_file(str(clip)), api_name=api_name)
                raw = result[-1] if isinstance(result, (list, tuple)) else result
                if isinstance(raw, dict) and "error" in raw:
                    raise RuntimeError(f"{clip.name}: {raw['error']}")
            except Exception as exc:  # every failure is counted, with its message
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for client in clients:
        try:
            client.close()
        except Exception:
            pass
    return {
        "users": users,
        "seconds": wall,
        "requests": len(latencies) + len(errors),
        "ok": len(latencies),
        "errors": len(errors),
        "error_messages": sorted(set(errors))[:5],
        "throughput": len(latencies) / wall,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        "latencies": latencies,
        "order": time.perf_counter(),
    }


def stop_server(server: subprocess.Popen | None) -> None:
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


class App:
    """One running app (one queue setting), its address, endpoint and RSS sampler."""

    def __init__(self, args, bundle: str, concurrency, work: Path) -> None:
        self.port = free_port()
        self.folder = work / f"server-{self.port}"
        self.folder.mkdir()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = self.folder / "server.log"
        self.server = start_server(bundle, self.port, concurrency, args.queue_size, self.log, args.app_repo)
        self.settings, self.api_name, self.sampler = "queue: ?", "/predict", None

    def ready(self, args, clips: list[Path]) -> None:
        from gradio_client import Client

        seconds = wait_until_up(self.url, self.server, self.log, args.startup_timeout)
        lines = self.log.read_text().splitlines()
        self.settings = next((l for l in lines if l.startswith("queue:")), "queue: ?").replace("queue: ", "")
        self.settings = self.settings.replace("default_concurrency_limit", "concurrency").replace("max_size", "queue")
        probe = Client(self.url, verbose=False, download_files=str(self.folder / "downloads"))
        self.api_name = find_api_name(probe)
        probe.close()
        self.sampler = Sampler(self.server.pid)
        self.sampler.start()
        self.sampler.phase = "warm-up"
        warm = run_phase(self.url, self.api_name, 2, clips, 120, len(clips), self.downloads(args))  # every clip once
        print(
            f"  {self.settings}: up in {seconds:.0f} s, warm-up {warm['ok']} ok, {warm['errors']} errors "
            f"{warm['error_messages']}",
            flush=True,
        )

    def downloads(self, args):
        return str(self.folder / "downloads") if args.download else False

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop.set()
            self.sampler.join()
        stop_server(self.server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--users", default="1,4,16", help="comma list of concurrent users, one phase each (default 1,4,16)"
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase (default 60)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every phase this many times, interleaved")
    parser.add_argument("--max-requests", type=int, default=5000, help="bound on requests per phase")
    parser.add_argument("--bundle", default=None, help="bundle to serve (default weights/, else the seed weights)")
    parser.add_argument(
        "--concurrency",
        default=None,
        help="override app.CONCURRENCY; a comma list starts one app per value and interleaves them",
    )
    parser.add_argument("--queue-size", type=int, default=None, help="override app.QUEUE_SIZE")
    parser.add_argument("--real-clips", type=Path, default=SHARED_DATA / "real_clips")
    parser.add_argument("--synthetic", type=int, default=4, help="synthetic clips added to the real ones")
    parser.add_argument(
        "--clip",
        type=Path,
        action="append",
        default=None,
        help="upload only these clips (repeatable); one short clip for everyone makes every answer's "
        "frames identical, the case where Gradio rewrote a content-hashed image while it was served",
    )
    parser.add_argument(
        "--no-download",
        dest="download",
        action="store_false",
        help="do not download the result files (the 20 frame images); by default each client "
        "downloads them, one after another, as gradio_client does (a browser fetches them too)",
    )
    parser.add_argument(
        "--app-repo",
        type=Path,
        default=REPO,
        help="serve the app of this checkout (e.g. an older commit, for before/after figures)",
    )
    parser.add_argument("--startup-timeout", type=float, default=600)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="har-load-"))
    apps: list[App] = []
    try:
        if args.clip:
            clips = list(args.clip)
        else:
            clips = sorted(p for p in args.real_clips.glob("*.avi")) if args.real_clips.is_dir() else []
            clips += synthetic_clip_paths(work / "synthetic", args.synthetic)
        bundle = args.bundle or default_bundle(work)
        describe_machine()
        print(f"Bundle {bundle}; {len(clips)} clips: {', '.join(c.name for c in clips)}", flush=True)
        for concurrency in [int(c) for c in args.concurrency.split(",")] if args.concurrency else [None]:
            apps.append(App(args, bundle, concurrency, work))
            apps[-1].ready(args, clips)  # one at a time: start-ups compete for the same cores
        users_list = [int(u) for u in args.users.split(",") if u.strip()]
        runs: dict[tuple[int, int], list[dict]] = {}
        for round_ in range(args.rounds):
            for users in users_list:
                order = apps[round_ % len(apps) :] + apps[: round_ % len(apps)]  # alternate who goes first
                for app in order:
                    index = apps.index(app)
                    app.sampler.phase = f"{round_}: N={users}"
                    result = run_phase(
                        app.url, app.api_name, users, clips, args.seconds, args.max_requests, app.downloads(args)
                    )
                    rss = app.sampler.of(app.sampler.phase)
                    result |= {
                        "rss_start": rss[0] if rss else 0,
                        "rss_end": rss[-1] if rss else 0,
                        "settings": app.settings,
                    }
                    runs.setdefault((index, users), []).append(result)
                    print(
                        f"  round {round_ + 1}, {app.settings}, {users} users: {result['ok']} ok, {result['errors']} errors, "
                        f"{result['throughput']:.2f} clips/s, p95 {result['p95']:.2f} s, RSS {result['rss_end'] / 1e6:.0f} MB",
                        flush=True,
                    )
                    for message in result["error_messages"]:
                        print(f"    error: {message}", flush=True)
        rows, summary = [], []
        for (index, users), results in runs.items():
            latencies = [x for r in results for x in r["latencies"]]
            row = {
                "settings": apps[index].settings,
                "users": users,
                "requests": sum(r["requests"] for r in results),
                "errors": sum(r["errors"] for r in results),
                "throughput": statistics.median(r["throughput"] for r in results),
                "p50": percentile(latencies, 0.5),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
                "rss_start": results[0]["rss_start"],
                "rss_end": results[-1]["rss_end"],
            }
            summary.append(row)
            rows.append(
                [
                    row["settings"],
                    users,
                    row["requests"],
                    row["errors"],
                    f"{row['throughput']:.2f}",
                    f"{row['p50']:.2f}",
                    f"{row['p95']:.2f}",
                    f"{row['p99']:.2f}",
                ]
            )
        table(
            f"Load test: /predict, {args.seconds:.0f} s per phase, {args.rounds} round(s)",
            ["app queue", "users", "requests", "errors", "clips/s (median of rounds)", "p50 s", "p95 s", "p99 s"],
            rows,
            f"Each user is a gradio_client uploading {len(clips)} clips in turn (real UCF50 .avi and "
            "synthetic), one request at a time; latency is upload to result"
            + (
                ", including downloading the 20 frame images"
                if args.download
                else " (the 20 frame images are not downloaded: a browser fetches them in parallel, on its own machine)"
            )
            + ". The app and the clients share this machine.",
        )
        memory_rows = []
        for app in apps:
            served = sum(r["ok"] for (i, _), rs in runs.items() if apps[i] is app for r in rs)
            phases = [r for (i, _), rs in runs.items() if apps[i] is app for r in rs]
            warm = app.sampler.of("warm-up")
            first, last = (warm[-1] if warm else 0), max((r["rss_end"] for r in phases), default=0)
            ends = " → ".join(f"{r['rss_end'] / 1e6:.0f}" for r in sorted(phases, key=lambda r: r.get("order", 0)))
            memory_rows.append(
                [app.settings, served, f"{first / 1e6:.0f} MB", ends + " MB", f"{(last - first) / 1e6:+.0f} MB"]
            )
        table(
            "Server memory (RSS) across the run",
            ["app queue", "requests served", "after warm-up", "at the end of each phase", "growth"],
            memory_rows,
        )
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "summary": summary,
                        "runs": {f"{k[0]}:{k[1]}": v for k, v in runs.items()},
                        "rss": {a.settings: a.sampler.samples for a in apps},
                    },
                    indent=1,
                )
            )
        for app in apps:
            text = app.log.read_text(errors="replace")
            print(
                f"Server log ({app.settings}): {text.count('Traceback')} tracebacks, "
                f"{text.count('Too little data for declared Content-Length')} 'Too little data for declared "
                "Content-Length'",
                flush=True,
            )
    finally:
        for app in apps:
            app.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
