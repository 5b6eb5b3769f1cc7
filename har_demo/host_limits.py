"""How a host's limits are read and checked: one set of rules for every table of limits.

The app's limits (`har_demo.request_limits.Limits`, `HAR_DEMO_<FIELD>`) and the studio's
(`har_demo.studio.limits.StudioLimits`, `HAR_STUDIO_<FIELD>`) are frozen dataclasses read with
`read_limits`: a number must be finite and above 0 (0, negatives, `inf` and `nan` are refused at
start-up with a sentence), an integer field takes an integer, a yes/no field takes true/false.
docs/app.md lists every field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class LimitError(ValueError):
    """A limit setting that is not a field of its table, or not a usable value."""


def _kind(field_type: Any) -> type:
    name = field_type if isinstance(field_type, str) else getattr(field_type, "__name__", str(field_type))
    return {"int": int, "bool": bool}.get(name, float)


def parse_limit(name: str, text: str | int | float | bool, kind: type) -> int | float | bool:
    """One value for the field `name` (kind int, float or bool), or LimitError saying what is wrong."""
    raw = str(text).strip()
    if kind is bool:
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise LimitError(f"The setting {name} must be true or false, not {raw!r}.")
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or (kind is int and math.isfinite(value) and not value.is_integer()):
        raise LimitError(f"The limit {name} must be a{'n integer' if kind is int else ' number'}, not {raw!r}.")
    if not math.isfinite(value) or not value > 0:
        raise LimitError(f"The limit {name} must be a finite number above 0, not {raw!r}.")
    return int(value) if kind is int else value


def read_limits(
    cls: type[T], prefix: str, env: Mapping[str, str], overrides: Mapping[str, str] | Iterable[tuple[str, str]] = ()
) -> T:
    """Defaults, then `<prefix><FIELD>` variables of `env`, then `overrides` (field name -> text)."""
    kinds = {f.name: _kind(f.type) for f in fields(cls)}
    texts: dict[str, str] = {}
    for name in kinds:
        if (text := str(env.get(prefix + name.upper(), "")).strip()) != "":
            texts[name] = text
    for name, text in dict(overrides).items():
        if name not in kinds:
            raise LimitError(f"There is no limit called {name!r}; the limits are {', '.join(kinds)}.")
        texts[name] = text
    values = {}
    for name, text in texts.items():
        shown = prefix + name.upper() if name not in dict(overrides) else name
        values[name] = parse_limit(shown, text, kinds[name])
    return cls(**values)
