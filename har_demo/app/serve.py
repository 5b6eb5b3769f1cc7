"""`har-demo app`: the demo app, locally and as a Hugging Face Space (through app.py).

Which bundle: `--bundle REF`, else $HAR_DEMO_BUNDLE, else the shipped weights/ folder. REF is a
bundle folder or a Hub model repo `OWNER/NAME[@REVISION]`; if it cannot be loaded (the Hub is
unreachable and nothing is cached, a damaged folder, a malformed manifest) the app serves the
shipped weights and says so on the page.

The models are loaded once before the page opens (and traced in the background while it does);
requests never reload them.
SIGTERM (how Spaces and containers stop an app) removes the app's temporary files, then exits.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from har_demo.bundle import BundleError  # noqa: E402
from har_demo.live import LiveLimits  # noqa: E402
from har_demo.request_limits import LimitError, Limits  # noqa: E402  (no TensorFlow, no Gradio yet)
from har_demo.shipped import BUNDLE_ENV  # noqa: E402
from har_demo.studio.limits import StudioLimits  # noqa: E402

CONCURRENCY = 4  # requests served at once; model calls themselves take turns (see engine.Engine)
QUEUE_SIZE = 64


def create_demo(bundle_ref: str | None = None, limits: Limits | None = None):
    """Load and warm the bundle, build the page, configure the queue; returns (demo, engine)."""
    from har_demo.quiet_start import import_keras

    import_keras()  # first, without TensorFlow's start-up chatter
    from har_demo.app import build_demo
    from har_demo.app.engine import Engine, EngineRegistry, choose_bundle
    from har_demo.app.video_probe import probe_each_video_once
    from har_demo.inference import Predictor
    from har_demo.live import refuse_images_over
    from har_demo.timeline import BATCH_SIZE

    limits = limits or Limits.from_settings()
    import gradio as gr

    refuse_images_over(limits.live_max_pixels, gr.Error)  # live frames: refused from the header, before decoding
    bundle, notice = choose_bundle(bundle_ref)
    predictor = Predictor(bundle, warm=(1, BATCH_SIZE))  # a clip, and a full batch of timeline windows
    engine = Engine(predictor, limits=limits, notice=notice)
    with probe_each_video_once():
        demo = build_demo(EngineRegistry(engine))
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo, engine


def launch_options(engine) -> dict:
    """What launch() needs besides the address: gradio 6 takes theme and css here.

    No `allowed_paths`: the page serves copies of the misclassified strips from the app's temp
    folder, so nothing of the bundle folder (manifest, report, model files) is published.
    """
    from har_demo.app import theme

    return dict(
        theme=theme.THEME,
        css=theme.CSS,
        js=theme.JS,
        max_file_size=int(engine.limits.max_upload_mb * 1024 * 1024),
        footer_links=["api", "gradio"],
        # The predict, explain, timeline and annotate endpoints as MCP tools (/gradio_api/mcp/), when
        # gradio's MCP extra is installed (pip install "gradio[mcp]"); without it launch() would fail.
        mcp_server=importlib.util.find_spec("mcp") is not None,
    )


def stop_on_sigterm() -> None:
    """On SIGTERM remove the temporary files (atexit does not run for a signal), then exit 143."""
    from har_demo.app.media import remove_all
    from har_demo.studio.sessions import end_all_sessions
    from har_demo.studio.train_process import end_all

    def handler(signum, _frame):
        end_all()  # the studio's training child processes first: they write into the session folders
        remove_all()
        end_all_sessions()  # the studio's session folders (clips, trained bundles) of this process
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bundle",
        default=None,
        help=f"bundle folder or Hub OWNER/NAME[@REVISION] (default: ${BUNDLE_ENV}, else weights/)",
    )
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1; 0.0.0.0 on Spaces)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860, or $GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a request limit, e.g. predict_seconds=60 (repeatable; also $HAR_DEMO_<FIELD>; see docs/app.md)",
    )


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        limits = Limits.from_settings(overrides=args.limit)
        StudioLimits.from_env()  # HAR_STUDIO_*: a bad value stops the start with a sentence, like HAR_DEMO_*
        LiveLimits.from_env()
    except LimitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop_on_sigterm()
    try:
        demo, engine = create_demo(args.bundle, limits)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"Models ready in {time.perf_counter() - started:.1f} s on {engine.device}: "
        f"{', '.join(engine.bundle.model_names)} from {engine.bundle.origin}",
        flush=True,
    )
    if engine.notice:
        print(f"note: {engine.notice}", file=sys.stderr, flush=True)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share or None, **launch_options(engine))
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python app.py [options]`: the same as `har-demo app [options]`."""
    parser = argparse.ArgumentParser(description="The ConvLSTM vs LRCN activity recognition demo.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
