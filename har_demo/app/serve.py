"""`har-demo app`: the demo app, locally and as a Hugging Face Space (through app.py).

Which bundle: `--bundle REF`, else $HAR_DEMO_BUNDLE, else the shipped weights/ folder. REF is a
bundle folder or a Hub model repo `OWNER/NAME[@REVISION]`; if it cannot be loaded (say the Hub
is unreachable and nothing is cached) the app serves weights/ and says so on the page.

The models are loaded once and warmed before the page opens; requests never reload them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from har_demo.bundle import BundleError  # noqa: E402  (no TensorFlow yet)
from har_demo.views import BUNDLE_ENV, Limits  # noqa: E402

CONCURRENCY = 4  # requests served at once; model calls themselves take turns (see views.Engine)
QUEUE_SIZE = 64


def create_demo(bundle_ref: str | None = None, limits: Limits | None = None):
    """Load and warm the bundle, build the page, configure the queue; returns (demo, engine)."""
    from har_demo import ui, views
    from har_demo.inference import Predictor
    from har_demo.timeline import BATCH_SIZE

    bundle, notice = views.choose_bundle(bundle_ref)
    # Example results are cached lazily on disk; one folder per bundle, so a cache made with
    # other weights is never served as this bundle's answer.
    cache = Path(os.environ.get("GRADIO_EXAMPLES_CACHE", ".gradio/cached_examples"))
    fingerprint = views.bundle_fingerprint(bundle)
    if cache.name != fingerprint:
        os.environ["GRADIO_EXAMPLES_CACHE"] = str(cache / fingerprint)
    predictor = Predictor(bundle, warm=False)
    predictor.warm_up((1, BATCH_SIZE))  # a clip, and a full batch of timeline windows
    engine = views.Engine(predictor, limits=limits, notice=notice)
    demo = ui.build_demo(engine)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo, engine


def launch_options(engine) -> dict:
    """What launch() needs besides the address: gradio 6 takes theme and css here."""
    from har_demo import ui

    return dict(
        theme=ui.THEME,
        css=ui.CSS,
        js=ui.JS,
        allowed_paths=[str(engine.bundle.path)],  # the misclassified strips are served from the bundle
        max_file_size=int(engine.limits.max_upload_mb * 1024 * 1024),
        footer_links=["api", "gradio"],
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bundle",
        default=None,
        help=f"bundle folder or Hub OWNER/NAME[@REVISION] (default: ${BUNDLE_ENV}, else weights/)",
    )
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1; 0.0.0.0 on Spaces)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860, or $GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        demo, engine = create_demo(args.bundle)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"Models ready in {time.perf_counter() - started:.1f} s on {engine.device}: "
        f"{', '.join(engine.bundle.model_names)} from {engine.bundle.origin}"
    )
    if engine.notice:
        print(f"note: {engine.notice}", file=sys.stderr)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share or None, **launch_options(engine))
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python app.py [options]`: the same as `har-demo app [options]`."""
    parser = argparse.ArgumentParser(description="The ConvLSTM vs LRCN activity recognition demo.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
