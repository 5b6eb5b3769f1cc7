"""benchmarks/tiny_sets.py's JSON lines -> the Markdown table of docs/generalisation.md.

    python -m benchmarks.tiny_table runs/tiny_sets.jsonl

One row per candidate (the spec without models and seed): each model's held-out accuracy per
seed and its mean, "both": the two models' probabilities averaged, for the seeds where both were
trained on the same split (their test clips are then the same), and "new people": each model's
mean recall over the classes whose test clips are people it did not train on (a class recorded
in one group is tested on that same person; its recall measures memory and is left out), so the
number does not move when windows change how many test examples a class has.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

MODELS = ("lrcn", "convlstm")


def candidate(spec: dict) -> str:
    rest = {k: v for k, v in spec.items() if k not in ("models", "seed")}
    return json.dumps(rest, sort_keys=True)


def new_people_recall(confusion: list[list[int]], classes: list[str] | None, memory: list[str]) -> float:
    """Mean recall over the classes not in `memory` (rows of the confusion matrix are true classes)."""
    matrix = np.asarray(confusion, dtype=float)
    names = classes or [str(i) for i in range(len(matrix))]
    rows = [i for i, c in enumerate(names) if c not in memory and matrix[i].sum() > 0]
    return float(np.mean([matrix[i, i] / matrix[i].sum() for i in rows]))


def collect(path: Path, memory: list[str] = ()) -> dict[str, dict[int, dict[str, dict]]]:
    """candidate -> seed -> model -> {"accuracy", "new_people", "probabilities", "labels"} (the last line wins).

    `memory`: one-group classes for rows written before tiny_sets recorded them.
    """
    found: dict = defaultdict(lambda: defaultdict(dict))
    for line in Path(path).read_text().splitlines():
        row = json.loads(line)
        for model in MODELS:
            if model in row:
                found[candidate(row["spec"])][row["spec"].get("seed", 27)][model] = {
                    "accuracy": row[model]["accuracy"],
                    "new_people": new_people_recall(
                        row[model]["confusion"], row.get("classes"), row.get("memory_classes", list(memory))
                    ),
                    "probabilities": row[model].get("probabilities"),
                    "labels": row.get("test_labels"),
                }
    return found


def both_accuracy(runs: dict[str, dict]) -> float | None:
    """The accuracy of the two models' mean probabilities, or None if they were not both kept."""
    a, b = runs.get("lrcn"), runs.get("convlstm")
    if not a or not b or a["probabilities"] is None or b["probabilities"] is None or a["labels"] != b["labels"]:
        return None
    mean = (np.asarray(a["probabilities"]) + np.asarray(b["probabilities"])) / 2
    return float((mean.argmax(axis=1) == np.asarray(a["labels"])).mean())


def table(found) -> str:
    lines = [
        "| candidate | LRCN per seed | LRCN mean | LRCN new people | ConvLSTM per seed | ConvLSTM mean "
        "| ConvLSTM new people | both combined (mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, seeds in found.items():
        cells = []
        for model in MODELS:
            values = [seeds[s][model]["accuracy"] for s in sorted(seeds) if model in seeds[s]]
            cells.append(" / ".join(f"{v:.0%}" for v in values) or "-")
            cells.append(f"**{np.mean(values):.0%}** ({len(values)})" if values else "-")
            recalls = [seeds[s][model]["new_people"] for s in sorted(seeds) if model in seeds[s]]
            cells.append(f"{np.mean(recalls):.0%}" if recalls else "-")
        combined = [v for s in sorted(seeds) if (v := both_accuracy(seeds[s])) is not None]
        cells.append(f"{np.mean(combined):.0%} ({len(combined)})" if combined else "-")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument(
        "--memory-class",
        action="append",
        default=[],
        help="a one-group class (by name, or by index for rows without class names: real_tiny's Lunges is 2)",
    )
    args = parser.parse_args(argv)
    print(table(collect(args.runs, args.memory_class)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
