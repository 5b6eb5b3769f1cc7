"""Split kinds: one registry behind the CLI's choices, the splits made, the report text and the Hub card."""

from __future__ import annotations

import numpy as np
import pytest

from har_demo.manifest import Manifest, Report
from har_demo.model_card import card_body
from har_demo.report_text import split_words
from har_demo.split_kinds import SPLIT_KINDS, split_description
from har_demo.training.dataset import make_splits
from har_demo.training.options import BY_NAME
from tests.paths import REPO

SHIPPED_DIR = REPO / "weights"


def _clips():
    labels = [c for c in ("A", "B") for _ in range(12)]
    groups = [f"{label}/g{i % 3:02d}" for i, label in enumerate(labels)]
    paths = [f"/data/{label}/v_{label}_g{i % 3:02d}_c{i:02d}.avi" for i, label in enumerate(labels)]
    return groups, labels, paths


def test_every_registered_kind_is_a_choice_and_is_made_as_the_registry_says():
    assert BY_NAME["split"].choices == tuple(SPLIT_KINDS)
    groups, labels, paths = _clips()
    for kind in SPLIT_KINDS.values():
        splits = make_splits(groups, labels, kind.name, 0.25, 0.2, 27, paths)
        assert splits.kind == kind.name
        assert (len(splits.val) > 0) == kind.validates, kind.name
        assert set(splits.test) and not set(splits.test) & set(splits.train)
        assert len(splits.train) + len(splits.val) + len(splits.test) == len(labels)
        assert kind.name in BY_NAME["split"].help


def test_the_tiny_split_is_described_in_reports_and_on_the_model_card():
    words = split_words({"kind": "tiny", "train_clips": 30, "test_clips": 12, "test_fraction": 0.25, "seed": 27})
    assert words.startswith(SPLIT_KINDS["tiny"].description) and "no validation" in words
    assert split_description("sideways") == "sideways split" and split_description("") == "unknown split"
    manifest = Manifest.from_json((SHIPPED_DIR / "manifest.json").read_text())
    report = Report.from_json((SHIPPED_DIR / "report.json").read_text())
    report.split = {**report.split, "kind": "tiny"}
    card = card_body(manifest, report, "tiny-test", None)
    assert f"- kind: **tiny** — {SPLIT_KINDS['tiny'].description}" in card


def test_an_unknown_kind_is_refused_naming_the_kinds():
    groups, labels, paths = _clips()
    with pytest.raises(ValueError, match="^split must be one of random, group, tiny, not 'sideways'$"):
        make_splits(groups, labels, "sideways", paths=paths)
    assert np.array_equal(make_splits(groups, labels, "tiny", paths=paths).val, [])
