"""`har-demo timeline VIDEO... [--bundle REF] [--window S] [--stride S] [--out DIR] [--format csv|json|npz] [--smooth]`.

The Timeline tab for a folder of recordings: one observation file per video (or one for all with
`--combined`), the same numbers as the tab's downloads (har_demo.observations). The app's limits
apply (`Limits`: $HAR_DEMO_<FIELD> or `--limit FIELD=VALUE`), and everything that can be refused
without the models is refused first, with a sentence, before Keras is imported: a window or
stride out of range, a file that is not a video, too long, too large, and an output file that
is already there (`--force` replaces it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from har_demo.shipped import default_bundle_ref
from har_demo.smoothing import DEFAULT_STICKINESS, sticky_transitions
from har_demo.timeline import DEFAULT_STRIDE_S, DEFAULT_WINDOW_S

COMBINED_STEM = "timelines"


class SettingsError(ValueError):
    """A window, stride or stickiness the timeline does not take; the message says which range does."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", type=Path, help="video files, or folders (their videos, recursively)")
    parser.add_argument(
        "--bundle",
        default=None,
        help="bundle folder or Hub repo OWNER/NAME[@REVISION] (default: weights/ or $HAR_DEMO_BUNDLE)",
    )
    parser.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, help="seconds of video per prediction")
    parser.add_argument("--stride", type=float, default=DEFAULT_STRIDE_S, help="seconds between window starts")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the files (made if missing)")
    parser.add_argument("--format", choices=("csv", "json", "npz"), default="csv")
    parser.add_argument(
        "--combined", action="store_true", help=f"one file for all videos ({COMBINED_STEM}.FORMAT, a video column)"
    )
    parser.add_argument("--smooth", action="store_true", help="add each model's HMM-smoothed class (Viterbi)")
    parser.add_argument(
        "--stickiness",
        type=float,
        default=None,
        help=f"how much the smoothing HMM stays with an activity, 0 to below 1 (implies --smooth; {DEFAULT_STICKINESS:g})",
    )
    parser.add_argument("--force", action="store_true", help="replace output files that are already there")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--limit", action="append", default=[], metavar="FIELD=VALUE", help="one of the app's limits")


# --------------------------------------------------------------------------- checks before the models load
def check_settings(window_s: float, stride_s: float, limits) -> None:
    """The Timeline tab's own bounds on the window and the stride (`Limits`), in its words."""
    if not limits.min_window_s <= window_s <= limits.max_window_s:
        raise SettingsError(f"Choose a window between {limits.min_window_s:g} and {limits.max_window_s:g} seconds.")
    if not limits.min_stride_s <= stride_s <= limits.max_stride_s:
        raise SettingsError(f"Choose a stride between {limits.min_stride_s:g} and {limits.max_stride_s:g} seconds.")


def check_videos(videos: list[Path], limits) -> list[str]:
    """A sentence for each file the app would refuse from its size and header alone (no decoding)."""
    from har_demo.clip import VideoError, probe
    from har_demo.request_limits import check_upload

    problems = []
    for video in videos:
        try:
            probe(check_upload(video, limits), limits.decode_limits(limits.timeline_seconds))
        except VideoError as exc:
            problems.append(f"{video}: {exc}")
    return problems


def output_names(videos: list[Path], out: Path, fmt: str, combined: bool) -> dict[Path, Path]:
    """video -> its file (`<stem>_timeline.<fmt>`, as the tab names its downloads); for `combined`,
    every video -> the one file. Two videos with one stem cannot share a folder: SettingsError."""
    if combined:
        return dict.fromkeys(videos, out / f"{COMBINED_STEM}.{fmt}")
    names: dict[Path, Path] = {}
    for video in videos:
        target = out / f"{video.stem}_timeline.{fmt}"
        clash = next((v for v, t in names.items() if t == target), None)
        if clash is not None:
            raise SettingsError(
                f"{clash} and {video} would both write {target.name}: run them separately or with --combined."
            )
        names[video] = target
    return names


def write_file(target: Path, content) -> None:
    """Write through a temporary name beside it, so a file is either whole or absent."""
    import numpy as np

    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.partial")
    try:
        if isinstance(content, str):
            scratch.write_text(content, encoding="utf-8")
        else:
            with scratch.open("wb") as f:
                np.savez_compressed(f, **content)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the run
def _progress_bar(name: str, quiet: bool):
    """A tqdm bar on stderr (percent of the video's windows) and the callback compute_timeline takes."""
    from tqdm import tqdm

    bar = tqdm(total=100, desc=name, unit="%", file=sys.stderr, disable=quiet, leave=False)

    def update(fraction: float, desc: str) -> None:
        bar.update(max(0, int(round(fraction * 100)) - bar.n))
        bar.set_postfix_str(desc)

    return bar, update


def _agreement_text(obs) -> str:
    from har_demo.smoothing import agreement

    truth = obs.true_indices()
    if not (truth >= 0).any():
        return ""
    parts = [f"{m} {agreement(obs.timeline.top_indices(m), truth):.0%}" for m in obs.models]
    for m, path in obs.smoothed_indices().items():
        parts.append(f"{m} smoothed {agreement(path, truth):.0%}")
    return "  agreement with the true labels: " + ", ".join(parts)


def _refuse(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from har_demo.request_limits import LimitError, Limits

    try:
        limits = Limits.from_settings(overrides=args.limit)
        check_settings(args.window, args.stride, limits)
        stickiness = args.stickiness if args.stickiness is not None else DEFAULT_STICKINESS if args.smooth else None
        if stickiness is not None:
            try:
                sticky_transitions(2, stickiness)
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        from har_demo.clip import video_paths

        videos, problems = video_paths(args.videos)
        problems += check_videos(videos, limits)
        if problems:
            return _refuse(problems)
        targets = output_names(videos, args.out, args.format, args.combined)
    except (LimitError, SettingsError) as exc:
        return _refuse([str(exc)])
    existing = sorted({str(t) for t in targets.values() if t.exists()})
    if existing and not args.force:
        return _refuse([f"{t} is already there (--force replaces it)." for t in existing])

    from har_demo.bundle import BundleError
    from har_demo.clip import VideoError
    from har_demo.inference import Predictor
    from har_demo.observations import observe, render

    try:
        predictor = Predictor.from_ref(args.bundle or default_bundle_ref(), warm=False)
    except BundleError as exc:
        return _refuse([str(exc)])
    done, failures = [], 0
    for video in videos:
        bar, update = _progress_bar(video.name, args.quiet)
        try:
            obs = observe(
                video,
                predictor,
                window_s=args.window,
                stride_s=args.stride,
                limits=limits.decode_limits(limits.timeline_seconds),
                stickiness=stickiness,
                progress=update,
            )
        except (VideoError, ValueError) as exc:
            failures += 1
            print(f"error: {video}: {exc}", file=sys.stderr)
            continue
        except Exception as exc:  # as the tab: a decoder failing on a damaged file is that file's problem
            failures += 1
            print(f"error: {video}: this video could not be read ({type(exc).__name__}: {exc}).", file=sys.stderr)
            continue
        finally:
            bar.close()
        done.append((str(video), obs))
        if not args.combined:
            write_file(targets[video], render([(str(video), obs)], args.format))
        where = "" if args.combined else f" -> {targets[video]}"
        print(f"{video}: {obs.timeline.windows} windows{where}{_agreement_text(obs)}")
    if args.combined and done:
        target = targets[videos[0]]
        write_file(target, render(done, args.format))
        print(f"{len(done)} video{'s' if len(done) != 1 else ''} -> {target}")
    return 1 if failures else 0
