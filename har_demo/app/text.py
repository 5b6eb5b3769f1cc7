"""Small formatting helpers every tab shares: durations, timings, warnings, paths for people."""

from __future__ import annotations

import re
from pathlib import Path

from har_demo.names import display_name


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def timing_text(seconds: dict[str, float]) -> str:
    """'decoding 40 ms · ConvLSTM 12 ms · LRCN 8 ms · total 60 ms'."""
    parts = [f"decoding {fmt_ms(seconds.get('decode', 0.0))}"]
    parts += [f"{display_name(m)} {fmt_ms(s)}" for m, s in seconds.items() if m != "decode"]
    total = sum(seconds.values())
    return " · ".join(parts) + f" · total {fmt_ms(total)}"


def warning(text: str) -> str:
    return f"⚠ {text}"


def short_path(path) -> str:
    """A folder relative to the working directory when it is inside it, else as it is."""
    path = Path(path).expanduser()
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) + "/"
    except ValueError:
        return str(path)


def where(bundle) -> str:
    """Where a bundle was loaded from, for people: a Hub reference as given, a folder relative to
    the working directory when it is inside it."""
    origin = str(bundle.origin or bundle.path)
    return short_path(origin) if Path(origin).expanduser().is_dir() else origin


def bundle_label(name: str) -> str:
    """A bundle's name for people: training names bundles "<dataset>-<split>-split" ("studio-tiny-split"
    for the Train tab's), which reads as an internal name on the page."""
    match = re.fullmatch(r"(.+)-(\w+)-split", name or "")
    if not match:
        return name
    dataset, split = match.groups()
    if dataset == "studio":
        return "the models trained in the Train tab"
    return f"{dataset} ({split} split)"
