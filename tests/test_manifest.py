"""The manifest and report schema: every refusal is our sentence, and what was read writes back as it was.

A malformed bundle is checked by pydantic, but a person only ever reads a `ManifestError` naming the
file and the field; the shipped bundle is broken here one entry at a time, in every way a JSON value
can be wrong, to prove it. (Malformed bundles through `load_bundle` are in test_bundle.py.)
"""

from __future__ import annotations

import copy
import json

from har_demo.clip import ClipSettings
from har_demo.manifest import MANIFEST_NAME, REPORT_NAME, Manifest, ManifestError, Report
from tests.paths import REPO

WRONG_VALUES = ("20", True, None, 2.5, -1, [], {}, [[1, 2], [3]], "../outside.keras", "0" * 64)
PYDANTIC_WORDS = ("Input should", "validation error", "pydantic", "Value error", "Field required", "[type=")


def _locations(node, path=()):
    """Every entry's path in a JSON document (the first two items of a list stand for the rest)."""
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node[:2]) if isinstance(node, list) else ()
    for key, value in items:
        yield from _locations(value, (*path, key))


def _with(document, path, value):
    changed = copy.deepcopy(document)
    if not path:
        return value
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def test_every_refusal_is_our_sentence_naming_the_file_and_the_field():
    refused = 0
    for name, kind in ((MANIFEST_NAME, Manifest), (REPORT_NAME, Report)):
        document = json.loads((REPO / "weights" / name).read_text())
        for path in _locations(document):
            for value in WRONG_VALUES:
                try:
                    kind.from_dict(_with(document, path, value))
                except ManifestError as error:
                    refused += 1
                    text = str(error)
                    assert text.startswith(f"{name}: {error.field} " if error.field else f"{name} "), text
                    assert not any(words in text for words in PYDANTIC_WORDS), text
                    assert "is not a value a har-demo" not in text, f"{path}={value!r} has no words of its own: {text}"
    assert refused > 1000  # the sweep reached the checks, not only the free-form entries


def test_unknown_keys_order_and_number_types_survive_a_rewrite():
    document = {
        "files": {"m.keras": "ab" * 32},
        "clip": {"width": 32, "future_setting": [1], "frames": 8, "height": 32},
        "models": {"m": {"params": 10, "file": "m.keras", "quantised": False}},
        "classes": ["a", "b"],
        "format": "har-demo-bundle",
        "a_new_top_level_key": {"x": 1.0},
        "split": {"seed": 1, "kind": "random", "test_fraction": 1, "note": "ints stay ints"},
    }
    text = json.dumps(document, indent=2) + "\n"
    manifest = Manifest.from_json(text)
    assert manifest.clip == ClipSettings(frames=8, height=32, width=32)
    assert manifest.extra == {"a_new_top_level_key": {"x": 1.0}} and manifest.models["m"].extra == {"quantised": False}
    assert manifest.to_json() == text
    manifest.clip = manifest.clip.with_(channels=1)  # a setting changed since is written after the ones read
    assert list(manifest.to_dict()["clip"]) == ["width", "future_setting", "frames", "height", "channels"]

    report = {"models": {"m": {"test": {"accuracy": 1, "loss": 1.0, "per_class": {"a": {"f1": 0, "x": None}}}}}}
    assert json.loads(Report.from_dict(report).to_json()) == report
    assert Report.from_dict(report).to_json() == json.dumps(report, indent=1)
