"""Recipes: a training run as a named TOML file (configs/shipped.toml, configs/report.toml).

    [synth]                  # optional: the synthetic dataset the run is made on
    clips-per-class = 250
    [train]                  # the `har-demo train` options, spelled as the flags are
    split = "group"
    patience = 10

`har-demo train DATA --config FILE`: defaults < the file's [train] < flags given on the command
line. A key the file does not know is refused (every recorded setting is a setting that is used).
With a [synth] section, a DATA folder that does not exist yet is written first with exactly those
settings, and an existing synthetic DATA made otherwise is refused, so a recipe means one dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomllib

from har_demo.names import REPORT_CLASSES
from har_demo.training.options import OPTIONS


class RecipeError(ValueError):
    """A recipe file that cannot be used as written; the message names the key."""


# The recipe-able `train` options (training/options.py): name -> (type, allowed values or None).
TRAIN_KEYS: dict[str, tuple[type, tuple | None]] = {option.name: (option.kind, option.choices) for option in OPTIONS}

# [synth] keys -> the SYNTHETIC.json field that records each, and write_synthetic_dataset's default.
SYNTH_KEYS: dict[str, tuple[type, Any]] = {
    "clips_per_class": (int, 20),
    "groups_per_class": (int, None),
    "seed": (int, 27),
    "classes": (list, list(REPORT_CLASSES)),
    "ext": (str, ".avi"),
    "seconds": (list, [2.4, 4.0]),
}


def _key(name: str) -> str:
    return name.strip().replace("-", "_")


def _coerce(section: str, key: str, value: Any, kind: type, allowed: tuple | None) -> Any:
    if kind is str and key == "classes" and isinstance(value, list):
        value = ",".join(map(str, value))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is list and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RecipeError(f"[{section}] {key.replace('_', '-')} must be {kind.__name__}, not {value!r}.")
    if allowed and value not in allowed:
        raise RecipeError(f"[{section}] {key.replace('_', '-')} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def load_recipe(path: Path) -> dict[str, dict]:
    """{"train": {...}, "synth": {...}} from a TOML recipe, every key checked."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        raise RecipeError(f"Cannot read the recipe {path}: {exc.strerror or exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{path} is not valid TOML: {exc}.") from None
    unknown_sections = sorted(set(document) - {"train", "synth", "about"})
    if unknown_sections:
        raise RecipeError(f"{path} has unknown section(s) {', '.join(unknown_sections)}; use [synth] and [train].")
    recipe: dict[str, dict] = {"train": {}, "synth": {}}
    for section, keys in (("train", TRAIN_KEYS), ("synth", SYNTH_KEYS)):
        values = document.get(section, {})
        if not isinstance(values, dict):
            raise RecipeError(f"[{section}] in {path} must be a table of settings.")
        for raw, value in values.items():
            key = _key(raw)
            if key not in keys:
                raise RecipeError(
                    f"{path}: [{section}] has no setting {raw!r}; known: {', '.join(k.replace('_', '-') for k in keys)}."
                )
            kind, allowed = keys[key] if section == "train" else (keys[key][0], None)
            recipe[section][key] = _coerce(section, key, value, kind, allowed)
    return recipe


def resolve(explicit: dict[str, Any], recipe: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Every train option: a flag given on the command line, else the recipe's, else the default."""
    return {
        key: explicit[key] if explicit.get(key) is not None else recipe.get(key, defaults[key]) for key in TRAIN_KEYS
    }


def synth_arguments(synth: dict[str, Any]) -> dict[str, Any]:
    """The recipe's [synth] as write_synthetic_dataset keyword arguments."""
    args = {key: synth.get(key, default) for key, (_, default) in SYNTH_KEYS.items()}
    args["seconds"] = tuple(float(s) for s in args["seconds"])
    return args


def synthetic_mismatch(meta: dict, synth: dict[str, Any]) -> list[str]:
    """The [synth] settings a synthetic dataset's SYNTHETIC.json says it was not made with."""
    wanted = synth_arguments(synth)
    wanted["seconds"] = list(wanted["seconds"])
    if wanted["groups_per_class"] is None:
        wanted.pop("groups_per_class")
    ext = wanted["ext"]
    wanted["ext"] = ext if ext.startswith(".") else "." + ext
    return [
        f"{key.replace('_', '-')} {meta.get(key)!r} (the recipe says {value!r})"
        for key, value in wanted.items()
        if meta.get(key) != value
    ]
