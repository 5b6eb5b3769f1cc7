"""A bundle's report as text: Table 1, per-class precision/recall/F1, and the split in words.

One module for the three places that show results: the Hub model card (`har_demo.hub`), the app's
Models tab, and the `evaluate` / `train` CLI tables. Every number says which split it comes from.
"""

from __future__ import annotations

import html

from har_demo.manifest import Manifest, Report
from har_demo.names import display_name
from har_demo.split_kinds import split_description

NO_REPORT = (
    "ℹ No evaluation report in this bundle (imported weights): no test accuracy or loss to show. "
    "A bundle trained with `har-demo train` carries one."
)
RANDOM_SPLIT_NOTE = (
    "A *random* split puts clips of the same UCF50 group (same actor, same scene) on both sides, so "
    "these numbers are optimistic; a *group* split does not."
)
PER_CLASS_NOTE = (
    "*P = precision (of the clips called this class, the share that were), R = recall "
    "(of the clips of this class, the share found), F1 = their harmonic mean.*"
)


def _number(value, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def split_words(split: dict) -> str:
    """'group split (no UCF group in both training and test), 480 / 120 / 200 clips, 25% held out for test, seed 27'."""
    kind = split.get("kind", "")
    words = split_description(kind)
    sizes = [f"{split[k]} {k.split('_')[0]}" for k in ("train_clips", "val_clips", "test_clips") if k in split]
    if sizes:
        words += f", {' / '.join(sizes)} clips"
    if isinstance(split.get("test_fraction"), (int, float)) and "seed" in split:
        words += f", {split['test_fraction']:.0%} held out for test, seed {split['seed']}"
    return words


def _params(report: Report, manifest: Manifest | None, name: str) -> int | None:
    params = report.models[name].params
    if params is None and manifest is not None and name in manifest.models:
        params = manifest.models[name].params
    return params


def table1_markdown(report: Report, manifest: Manifest | None = None) -> str:
    """The course report's Table 1 (test accuracy and loss per model) plus macro F1, with the split named."""
    if not report.models:
        return NO_REPORT
    lines = [
        "| Model | Parameters | Test accuracy | Test loss | Macro F1 | Test clips | Epochs (best) |",
        "|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in report.models.items():
        test = result.test
        params = _params(report, manifest, name)
        epochs = f"{result.epochs_trained} ({result.best_epoch})" if result.epochs_trained is not None else "–"
        lines.append(
            f"| {display_name(name)} | {_number(params, ',')} | {_number(test and test.accuracy, '.1%')} | "
            f"{_number(test and test.loss, '.4f')} | {_number(test and test.macro_f1, '.3f')} | "
            f"{_number(test and test.clips, 'd')} | {epochs} |"
        )
    lines += ["", f"*Test set: {split_words(report.split or (manifest.split if manifest else {}))}.*"]
    if report.synthetic or (manifest is not None and manifest.synthetic):
        lines.append("*Measured on synthetic clips: these numbers say nothing about real videos.*")
    if (report.split or (manifest.split if manifest else {})).get("kind") == "random":
        lines += ["", RANDOM_SPLIT_NOTE]
    return "\n".join(lines)


def markdown_text(name: str) -> str:
    """A name from a model's files as inert Markdown text: HTML escaped, table and link syntax too."""
    escaped = html.escape(str(name), quote=False)
    for char in "\\|[]`*_":  # the backslash first, or it would double the others
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def per_class_markdown(report: Report, classes: list[str]) -> str:
    """Precision / recall / F1 of every model for each class, and the test clips of the class."""
    if not report.models:
        return ""
    models = list(report.models)
    header = "| Class | " + " | ".join(f"{display_name(m)} P / R / F1" for m in models) + " | Test clips |"
    lines = [header, "|:---|" + "---:|" * (len(models) + 1)]
    for cls in classes:
        cells, support = [], None
        for m in models:
            test = report.models[m].test
            row = test.per_class.get(cls) if test else None
            if row is None:
                cells.append("–")
                continue
            support = row.support if row.support is not None else support
            cells.append(f"{_number(row.precision, '.2f')} / {_number(row.recall, '.2f')} / {_number(row.f1, '.2f')}")
        lines.append(
            f"| {markdown_text(cls)} | " + " | ".join(cells) + f" | {support if support is not None else '–'} |"
        )
    lines += ["", PER_CLASS_NOTE]
    return "\n".join(lines)


def table1_text(report: Report) -> str:
    """Table 1 plus macro F1 as fixed-width text, for a terminal (`evaluate`, `train`)."""
    lines = [
        f"{'model':<10} {'accuracy':>9} {'loss':>8} {'macro F1':>9} {'clips':>6}   split: {report.split_kind or '?'}"
    ]
    for name, result in report.models.items():
        test = result.test
        lines.append(
            f"{name:<10} {_number(test and test.accuracy, '>9.2%'):>9} {_number(test and test.loss, '>8.4f'):>8} "
            f"{_number(test and test.macro_f1, '>9.4f'):>9} {_number(test and test.clips, '>6'):>6}"
        )
    return "\n".join(lines)
