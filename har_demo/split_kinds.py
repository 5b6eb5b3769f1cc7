"""The kinds of train/test split, in one place: the CLI's choices, the dataset checks, reports and model cards.

Each kind is made in training/dataset.py (`make_splits`); here is what it is called, how it is
said to a reader, whether it holds out validation clips, and how long a training example may be.
The core library reads this module (reports, the Hub card), so it imports nothing of training.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SplitKind:
    name: str
    description: str  # words for a report or a model card, after "kind: "
    validates: bool  # holds out validation clips (early stopping) when val_fraction > 0
    window_seconds: float = 0.0  # clips longer than this become several examples; 0: every clip is one


SPLIT_KINDS: dict[str, SplitKind] = {
    kind.name: kind
    for kind in (
        SplitKind("random", "random split (the report's; clips of one group can land on both sides)", True),
        SplitKind("group", "group split (no UCF group in both training and test)", True),
        SplitKind(
            "tiny",
            "tiny split (whole groups held out per class, the last clips of a single-group class, "
            "no validation; for a few clips a class)",
            False,
            window_seconds=5.0,  # the better window on new people (docs/generalisation.md)
        ),
    )
}
SPLIT_NAMES: tuple[str, ...] = tuple(SPLIT_KINDS)


def split_description(kind: str) -> str:
    """How a report names a split: the registry's words, or "<kind> split" for one it does not know."""
    known = SPLIT_KINDS.get(kind)
    return known.description if known else (f"{kind} split" if kind else "unknown split")


def window_seconds(kind: str) -> float:
    """How long a training example of a run with this split may be (0: a clip is one example, as the
    report's splits count clips and its reproduction must see the same ones)."""
    known = SPLIT_KINDS.get(kind)
    return known.window_seconds if known else 0.0
