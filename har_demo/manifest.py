"""The typed contents of a bundle's manifest.json and report.json, read (validated) and written here only.

A bundle may come from anyone (an unpinned Hub repo, a copied folder), so pydantic checks every field
a consumer reads, strictly (true is not a number, "20" is not 20), and every refusal is a
`ManifestError` in our words, naming the file and the field ("manifest.json: clip.frames must be a
whole number, got '20'"): pydantic's own wording never reaches a person. A bundle that was read
writes back byte for byte: keys in the order read, unknown keys kept, numbers as they were. What a
clip setting may be is ClipSettings' own table (`ClipSettings.problem`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, get_type_hints

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    WrapValidator,
    create_model,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from har_demo.clip import ClipSettings

MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.json"
MAX_JSON_BYTES = 16 << 20  # a manifest or report larger than this is not one har-demo wrote
FORMAT = "har-demo-bundle"
FORMAT_VERSION = 1
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PLAIN_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_STRICT = ConfigDict(extra="allow", strict=True)


class BundleError(Exception):
    """A bundle that cannot be used; the message says what is wrong and what to do."""


class ManifestError(BundleError):
    """manifest.json or report.json does not follow its schema; `field` names the entry at fault."""

    def __init__(self, file: str, field_name: str, problem: str):
        self.file, self.field = file, field_name
        where = f"{file}: {field_name} " if field_name else f"{file} "
        super().__init__(where + problem)


class NewerFormatError(ManifestError):
    """A bundle written by a newer har-demo than this one."""


# --------------------------------------------------------------------------- our sentences
def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


def _dotted(loc: tuple) -> str:
    """pydantic's location as people read it: models.lrcn.file, classes[1], files['a b.jpg']."""
    name = ""
    for part in loc[:-1] if loc[-1:] == ("[key]",) else loc:  # "[key]": the key itself is at fault
        if isinstance(part, int):
            name += f"[{part}]"
        elif _PLAIN_KEY_RE.match(part):
            name += f".{part}" if name else part
        else:
            name += f"[{part!r}]"
    return name


def _refusal(file: str, error: dict) -> ManifestError:
    """One pydantic error as our sentence; only the few kinds strict validation makes have words here."""
    kind, value, field_name = error["type"], error["input"], _dotted(error["loc"])
    words = {"int_type": "a whole number", "string_type": "a string", "bool_type": "true or false"}
    if kind == "missing":
        return ManifestError(file, "", f"has no {field_name!r} entry")
    if kind == "newer_format":
        return NewerFormatError(file, field_name, error["msg"])
    if kind == "har_demo":
        problem = error["msg"]
    elif kind in words:
        problem = f"must be {words[kind]}, got {_shown(value)}"
    elif kind in ("model_type", "dict_type"):
        problem = f"must be a JSON object, got {_kind(value)}"
    elif kind == "list_type":
        problem = f"must be a list, got {_kind(value)}"
    elif kind == "greater_than_equal":
        problem = f"must be at least {error['ctx']['ge']}, got {_shown(value)}"
    else:
        problem = f"is not a value a har-demo {file} holds, got {_shown(value)}"
    return ManifestError(file, field_name, problem)


def _validated(cls: type[_Record], data: Any, file: str) -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise _refusal(file, exc.errors()[0]) from None


def _load_json(text: str | bytes, file: str) -> Any:
    if len(text) > MAX_JSON_BYTES:
        raise ManifestError(file, "", f"is {len(text):,} bytes; a har-demo {file} is at most {MAX_JSON_BYTES:,}")
    try:
        return json.loads(text)
    except UnicodeDecodeError as exc:
        raise ManifestError(file, "", f"is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(file, "", f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ManifestError(file, "", "is nested too deeply to be a har-demo file") from None


# --------------------------------------------------------------------------- value types
def _refuse(problem: Callable[[Any], str | None], error_type: str = "har_demo") -> Callable[[Any], Any]:
    """A validator: the value as it is, or our sentence for what `problem` finds wrong with it."""

    def check(value: Any) -> Any:
        found = problem(value)
        if found:
            raise PydanticCustomError(error_type, found)
        return value

    return check


def bundle_path_problem(value: Any) -> str | None:
    """Why `value` is not a relative path inside a bundle folder, or None when it is one."""
    if not isinstance(value, str) or not value:
        return f"must be a file name inside the bundle, got {_shown(value)}"
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or value.startswith(("/", "\\")):
        return f"must be a path inside the bundle folder, not the absolute path {_shown(value)}"
    if "\\" in value or "\x00" in value:
        return f"must be a plain relative path with / separators, got {_shown(value)}"
    if any(part in ("..", ".", "") for part in value.split("/")):
        return f"must be a path inside the bundle folder, got {_shown(value)}"
    return None


def _not_a_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number, got {_shown(value)}"
    return None


def _not_a_listed_file(value: Any) -> str | None:
    if value == MANIFEST_NAME:
        return "cannot be listed: the manifest cannot hold its own hash"
    return bundle_path_problem(value)


def _not_a_sha256(value: Any) -> str | None:
    if isinstance(value, str) and _SHA256_RE.match(value):
        return None
    return f"must be a sha256 (64 lowercase hex digits), got {_shown(value)}"


def _not_a_class_name(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else f"must be a class name, got {_shown(value)}"


def _not_distinct(classes: list[str]) -> str | None:
    if not classes:
        return "must name at least one class"
    return "must not name a class twice" if len(set(classes)) != len(classes) else None


def _no_model(models: dict) -> str | None:
    return None if models else "must name at least one model"


def _newer(version: int) -> str | None:
    if version <= FORMAT_VERSION:
        return None
    return (
        f"is {version}: the bundle was written by a newer har-demo (this one reads format "
        f"{FORMAT_VERSION}); upgrade har-demo to read it"
    )


def _not_square(rows: list[list[int]]) -> str | None:
    if any(len(row) != len(rows) for row in rows):
        return "must be a square matrix (one row and one column per class)"
    return None


def _kept_as_read(value: Any, handler: Callable[[Any], Any]) -> dict:
    """A free-form object: the entries consumers read are checked, the object itself kept as read."""
    handler(value)
    return dict(value)


Number = Annotated[int | float, PlainValidator(_refuse(_not_a_number))]  # an int stays an int
Count = Annotated[int, Field(ge=0)]
BundlePath = Annotated[str, PlainValidator(_refuse(bundle_path_problem))]
_ListedFile = Annotated[str, PlainValidator(_refuse(_not_a_listed_file))]
_Sha256 = Annotated[str, PlainValidator(_refuse(_not_a_sha256))]
_ClassName = Annotated[str, PlainValidator(_refuse(_not_a_class_name))]
_NOT_A_BUNDLE = f"must be {FORMAT!r}: this is not a har-demo bundle manifest"
_Format = Annotated[str, PlainValidator(_refuse(lambda v: None if v == FORMAT else _NOT_A_BUNDLE))]
_FormatVersion = Annotated[int, Field(ge=1), AfterValidator(_refuse(_newer, "newer_format"))]


class _DatasetInfo(TypedDict, total=False):
    __pydantic_config__ = _STRICT  # type: ignore[misc]
    name: str
    synthetic: bool
    clips: Count


class _SplitInfo(TypedDict, total=False):
    """A split description (kind, fractions, seed, sizes): the fields people and `evaluate` read."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    kind: str
    test_fraction: Number
    val_fraction: Number
    seed: int
    train_clips: Count
    val_clips: Count
    test_clips: Count


class _WeightsSource(TypedDict, total=False):
    __pydantic_config__ = _STRICT  # type: ignore[misc]
    file: str
    sha256: str


DatasetInfo = Annotated[_DatasetInfo, WrapValidator(_kept_as_read)]
SplitInfo = Annotated[_SplitInfo, WrapValidator(_kept_as_read)]
WeightsSource = Annotated[_WeightsSource, WrapValidator(_kept_as_read)]


def _setting(name: str, json_type: type) -> Any:
    """One clip setting: its JSON type, then what ClipSettings' own table says it may be."""
    return Annotated[json_type, AfterValidator(_refuse(lambda value: ClipSettings.problem(name, value)))]


_hints = get_type_hints(ClipSettings)
_ClipJSON = create_model(
    "clip", __config__=_STRICT, **{f.name: (_setting(f.name, _hints[f.name]), f.default) for f in fields(ClipSettings)}
)


def _clip_settings(value: Any, handler: Callable[[Any], Any]) -> ClipSettings:
    if isinstance(value, ClipSettings):
        return value
    _ClipJSON.model_validate(value)  # its errors are located inside `clip`
    return ClipSettings.from_dict(value)


# --------------------------------------------------------------------------- the record base
class _Record(BaseModel):
    """One JSON object of a bundle: unknown keys kept, and written back in the order read (or given)."""

    model_config = _STRICT
    _keys: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        record = handler(data)
        if isinstance(data, dict):
            record._keys = tuple(data)
        return record

    @model_serializer(mode="wrap")
    def _in_key_order(self, handler: Callable[[Any], dict]) -> dict:
        """Keys as read first; then what was set since, unless empty. A known field that is None is absent."""
        known = type(self).model_fields
        written = {k: v for k, v in self._json_fields(handler(self)).items() if v is not None or k not in known}
        first = {k: written[k] for k in self._keys if k in written}
        return first | {k: v for k, v in written.items() if k not in first and v not in ({}, [])}

    def _json_fields(self, written: dict) -> dict:
        return written

    @property
    def extra(self) -> dict[str, Any]:
        """The keys this har-demo does not know, kept as read."""
        return self.model_extra or {}

    def to_dict(self) -> dict:
        return self.model_dump()


# --------------------------------------------------------------------------- manifest.json
class ModelEntry(_Record):
    """One model of a bundle: its file (hashed in `files`) and its parameter count."""

    file: BundlePath
    params: Count | None = None


class Manifest(_Record):
    """manifest.json: what the models are, how their frames must be made, and every file's sha256.

    A new manifest's keys are written in the order `bundle.new_manifest` gives them.
    """

    format: _Format
    format_version: _FormatVersion | None = None  # absent in the earliest bundles: format 1
    name: str | None = None
    created: str | None = None
    source: str | None = None  # "trained", "imported", ...
    classes: Annotated[list[_ClassName], AfterValidator(_refuse(_not_distinct))]
    clip: Annotated[ClipSettings, WrapValidator(_clip_settings)]
    models: Annotated[dict[str, ModelEntry], AfterValidator(_refuse(_no_model))]
    dataset: DatasetInfo = {}  # name, synthetic, clips, classes, skipped
    split: SplitInfo = {}  # kind, test_fraction, val_fraction, seed, *_clips
    training: dict = {}  # the run's settings, as recorded
    versions: dict = {}
    imported_from: dict[str, WeightsSource] = {}  # {model: {file, sha256}} for imported weights
    files: dict[_ListedFile, _Sha256]
    _clip_read: dict | None = PrivateAttr(default=None)  # the clip object as read: its order, unknown keys

    @model_validator(mode="wrap")
    @classmethod
    def _remember_clip(cls, data: Any, handler: Callable[[Any], Any]) -> Any:
        manifest = handler(data)
        if isinstance(data, dict) and isinstance(data.get("clip"), dict):
            manifest._clip_read = dict(data["clip"])
        return manifest

    def _json_fields(self, written: dict) -> dict:
        """The clip as read: its keys, plus any setting changed from its default since."""
        settings = asdict(self.clip)
        if self._clip_read is not None:
            defaults = asdict(ClipSettings())
            as_read = {k: settings.get(k, v) for k, v in self._clip_read.items()}
            settings = as_read | {k: v for k, v in settings.items() if k not in as_read and v != defaults[k]}
        return written | {"clip": settings}

    # ---- what consumers read
    @property
    def synthetic(self) -> bool:
        return bool(self.dataset.get("synthetic", False))

    @property
    def dataset_name(self) -> str | None:
        return self.dataset.get("name")

    @property
    def model_names(self) -> list[str]:
        return list(self.models)

    def model_sha256(self, name: str) -> str:
        return self.files[self.models[name].file]

    # ---- reading and writing
    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        manifest = _validated(cls, data, MANIFEST_NAME)
        for name, entry in manifest.models.items():  # while a bundle is written, files is not filled in yet
            if entry.file not in manifest.files:
                problem = f"{entry.file!r} is not in files, so it has no hash to check; the model is refused"
                raise ManifestError(MANIFEST_NAME, _dotted(("models", name, "file")), problem)
        return manifest

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        return cls.from_dict(_load_json(text, MANIFEST_NAME))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


# --------------------------------------------------------------------------- report.json
class ClassMetrics(_Record):
    precision: Number | None = None
    recall: Number | None = None
    f1: Number | None = None
    support: Count | None = None


class TestMetrics(_Record):
    """One model on the test clips: Table 1's numbers, per class, and the confusion matrix."""

    __test__ = False  # not a pytest test class, whatever its name says

    clips: Count | None = None
    accuracy: Number | None = None
    loss: Number | None = None
    macro_precision: Number | None = None
    macro_recall: Number | None = None
    macro_f1: Number | None = None
    per_class: dict[str, ClassMetrics] = {}
    confusion: Annotated[list[list[int]], AfterValidator(_refuse(_not_square))] = []
    top5_accuracy: Number | None = None


class Misclassified(_Record):
    """One test clip a model got wrong, and the bundle's frame strip of it."""

    clip: str
    true: str
    predicted: str
    confidence: Number | None = None
    probabilities: dict[str, Number] = {}
    image: BundlePath | None = None  # listed in the manifest's files (bundle.read_report checks)


class ModelReport(_Record):
    """One model's training run and test results."""

    history: dict[str, list[Number]] = {}  # per epoch: loss, accuracy, val_*
    epochs_trained: Count | None = None
    best_epoch: Count | None = None
    train_seconds: Number | None = None
    params: Count | None = None
    test: TestMetrics | None = None
    misclassified: list[Misclassified] = []


class Report(_Record):
    """report.json: the test split, the dataset, and every model's results. Empty when a bundle has none."""

    models: dict[str, ModelReport] = {}
    split: SplitInfo = {}
    dataset: DatasetInfo = {}
    bundle: str | None = None  # `evaluate --out`: which bundle was evaluated
    augmentation: dict | None = None  # the with/without augmentation ablation, when one was run

    @property
    def synthetic(self) -> bool:
        return bool(self.dataset.get("synthetic", False))

    @property
    def split_kind(self) -> str:
        return str(self.split.get("kind") or "")

    def image_paths(self) -> list[str]:
        return [e.image for m in self.models.values() for e in m.misclassified if e.image]

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        return _validated(cls, data, REPORT_NAME)

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        return cls.from_dict(_load_json(text, REPORT_NAME))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)
