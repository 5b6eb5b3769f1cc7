"""The typed contents of a bundle's manifest.json and report.json, read (validated) and written here only.

A bundle may come from anyone (an unpinned Hub repo, a copied folder), so every field a consumer
reads is checked on the way in: a wrong type, an unknown value or a path that leaves the bundle is
a `ManifestError` naming the file and the field ("manifest.json: clip.frames must be a whole
number, got '20'"), never a ValueError or KeyError somewhere later. The JSON on disk keeps its
format exactly: keys are written back in the order they were read, unknown keys are kept, numbers
keep their type, so an existing bundle reads and writes byte for byte the same. What a clip
setting may be is ClipSettings' own table (`ClipSettings.problem`); this module checks JSON types.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from har_demo.clip import ClipSettings

MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.json"
MAX_JSON_BYTES = 16 << 20  # a manifest or report larger than this is not one har-demo wrote
FORMAT = "har-demo-bundle"
FORMAT_VERSION = 1
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PLAIN_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\[\d+\])?$")


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


# --------------------------------------------------------------------------- checking values
def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


class _Fields:
    """Reads one JSON object of one file; every refusal names the file and the dotted field."""

    def __init__(self, file: str, data: Any, path: str = ""):
        self.file, self.path = file, path
        if not isinstance(data, dict):
            raise ManifestError(file, path, f"must be a JSON object, got {_kind(data)}")
        self.data = data

    def name(self, key: str) -> str:
        """The dotted name of an entry; a key that is not a plain word (a file name) in brackets."""
        if not _PLAIN_KEY_RE.match(key):
            return f"{self.path}[{key!r}]" if self.path else repr(key)
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> ManifestError:
        return ManifestError(self.file, self.name(key), problem)

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def required(self, key: str) -> Any:
        if key not in self.data:
            raise ManifestError(self.file, "", f"has no {self.name(key)!r} entry")
        return self.data[key]

    def _value(self, key: str, required: bool) -> Any:
        return self.required(key) if required else self.data.get(key)

    def whole(self, key: str, required: bool = False, minimum: int | None = None) -> int | None:
        value = self._value(key, required)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {_shown(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def number(self, key: str, required: bool = False) -> float | int | None:
        value = self._value(key, required)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number, got {_shown(value)}")
        return value

    def text(self, key: str, required: bool = False, allowed: tuple[str, ...] | None = None) -> str | None:
        value = self._value(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_shown(value)}")
        if allowed is not None and value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}, got {_shown(value)}")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {_shown(value)}")
        return value

    def obj(self, key: str, required: bool = False) -> _Fields | None:
        value = self._value(key, required)
        if value is None and not required:
            return None
        return _Fields(self.file, value, self.name(key))

    def plain_obj(self, key: str) -> dict:
        """An object whose inner values are free-form (dataset, training, versions)."""
        inner = self.obj(key)
        return dict(inner.data) if inner else {}

    def items(self, key: str, required: bool = False) -> list[tuple[str, Any]]:
        inner = self.obj(key, required)
        return list(inner.data.items()) if inner else []

    def array(self, key: str, required: bool = False) -> list | None:
        value = self._value(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, got {_kind(value)}")
        return value

    def numbers(self, key: str) -> list:
        values = self.array(key) or []
        for i, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(f"{key}[{i}]", f"must be a number, got {_shown(value)}")
        return values

    def path_in_bundle(self, key: str, value: Any = None, required: bool = True) -> str | None:
        value = self._value(key, required) if value is None else value
        if value is None and not required:
            return None
        problem = bundle_path_problem(value)
        if problem:
            raise self.fail(key, problem)
        return value

    def extra(self, known: tuple[str, ...]) -> dict:
        return {k: v for k, v in self.data.items() if k not in known}


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


# --------------------------------------------------------------------------- the record base
@dataclass
class _Record:
    """Key order as read and unknown keys, so a record writes back exactly what it was read from."""

    def _json_items(self) -> dict:
        """The known fields as JSON values; None means absent."""
        out = {}
        for f in fields(self):
            if f.name in ("extra", "key_order") or f.metadata.get("derived"):
                continue
            out[f.name] = _to_json(getattr(self, f.name))
        return out

    def to_dict(self) -> dict:
        known = {k: v for k, v in self._json_items().items() if v is not None}
        extra = getattr(self, "extra", {})
        order = getattr(self, "key_order", ())
        out = {}
        for key in order:  # as read
            if key in known:
                out[key] = known[key]
            elif key in extra:
                out[key] = extra[key]
        tail = getattr(self, "_TAIL", ())
        for key, value in known.items():  # set since (or never read): known, then unknown, then the tail
            if key not in out and key not in tail and not (order and _empty(value)):
                out[key] = value
        for key, value in extra.items():
            out.setdefault(key, value)
        for key in tail:
            if key in known and key not in out:
                out[key] = known[key]
        return out


def _empty(value: Any) -> bool:
    return value in ({}, [])


def _to_json(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, ClipSettings):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


def _order() -> Any:
    return field(default=(), repr=False, compare=False)


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


def _split_info(reader: _Fields, key: str) -> dict:
    """A split description (kind, fractions, seed, sizes): the fields people and `evaluate` read."""
    inner = reader.obj(key)
    if inner is None:
        return {}
    inner.text("kind")
    inner.number("test_fraction")
    inner.number("val_fraction")
    inner.whole("seed")
    for size in ("train_clips", "val_clips", "test_clips"):
        inner.whole(size, minimum=0)
    return dict(inner.data)


def _dataset_info(reader: _Fields, key: str) -> dict:
    inner = reader.obj(key)
    if inner is None:
        return {}
    inner.text("name")
    inner.flag("synthetic")
    inner.whole("clips", minimum=0)
    return dict(inner.data)


# --------------------------------------------------------------------------- manifest.json
@dataclass
class ModelEntry(_Record):
    """One model of a bundle: its file (hashed in `files`) and its parameter count."""

    file: str
    params: int | None = None
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    @classmethod
    def from_fields(cls, r: _Fields) -> ModelEntry:
        return cls(
            file=r.path_in_bundle("file"),
            params=r.whole("params", minimum=0),
            extra=r.extra(("file", "params")),
            key_order=tuple(r.data),
        )


@dataclass
class Manifest(_Record):
    """manifest.json: what the models are, how their frames must be made, and every file's sha256."""

    classes: list[str]
    clip: ClipSettings
    models: dict[str, ModelEntry]
    files: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    created: str | None = None
    source: str | None = None  # "trained", "imported", ...
    dataset: dict = field(default_factory=dict)  # name, synthetic, clips, classes, skipped
    split: dict = field(default_factory=dict)  # kind, test_fraction, val_fraction, seed, *_clips
    training: dict = field(default_factory=dict)  # the run's settings, as recorded
    versions: dict = field(default_factory=dict)
    imported_from: dict = field(default_factory=dict)  # {model: {file, sha256}} for imported weights
    format_version: int | None = FORMAT_VERSION
    clip_extra: dict = field(default_factory=dict, repr=False, metadata={"derived": True})  # clip keys unknown here
    clip_keys: tuple = field(default=(), repr=False, compare=False, metadata={"derived": True})  # clip keys as read
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    _TAIL = ("files",)  # written last: it is computed last

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
        r = _Fields(MANIFEST_NAME, data)
        if r.required("format") != FORMAT:
            raise ManifestError(MANIFEST_NAME, "format", f"must be {FORMAT!r}: this is not a har-demo bundle manifest")
        version = r.whole("format_version", minimum=1)  # absent in the earliest bundles: format 1
        if version is not None and version > FORMAT_VERSION:
            raise NewerFormatError(
                MANIFEST_NAME,
                "format_version",
                f"is {version}: the bundle was written by a newer har-demo (this one reads format "
                f"{FORMAT_VERSION}); upgrade har-demo to read it",
            )
        classes = r.array("classes", required=True)
        if not classes:
            raise r.fail("classes", "must name at least one class")
        for i, name in enumerate(classes):
            if not isinstance(name, str) or not name.strip():
                raise r.fail(f"classes[{i}]", f"must be a class name, got {_shown(name)}")
        if len(set(classes)) != len(classes):
            raise r.fail("classes", "must not name a class twice")
        clip, clip_extra = _clip_settings(r.obj("clip", required=True))
        files, listed = {}, r.obj("files", required=True)
        for path, digest in listed.data.items():
            listed.path_in_bundle(path, value=path)
            if path == MANIFEST_NAME:
                raise listed.fail(path, "cannot be listed: the manifest cannot hold its own hash")
            if not isinstance(digest, str) or not _SHA256_RE.match(digest):
                raise listed.fail(path, f"must be a sha256 (64 lowercase hex digits), got {_shown(digest)}")
            files[path] = digest
        models, entries = {}, r.obj("models", required=True)
        if not entries.data:
            raise r.fail("models", "must name at least one model")
        for name in entries.data:
            entry_fields = entries.obj(name, required=True)
            entry = ModelEntry.from_fields(entry_fields)
            if entry.file not in files:
                raise entry_fields.fail(
                    "file",
                    f"{entry.file!r} is not in files, so it has no hash to check; the model is refused",
                )
            models[name] = entry
        imported = {}
        for name, _ in r.items("imported_from"):
            source = r.obj("imported_from").obj(name, required=True)
            source.text("file")
            source.text("sha256")
            imported[name] = dict(source.data)
        known = tuple(
            f.name for f in fields(cls) if f.name not in ("extra", "key_order", "clip_extra", "clip_keys")
        ) + ("format",)
        return cls(
            classes=list(classes),
            clip=clip,
            models=models,
            files=files,
            name=r.text("name"),
            created=r.text("created"),
            source=r.text("source"),
            dataset=_dataset_info(r, "dataset"),
            split=_split_info(r, "split"),
            training=r.plain_obj("training"),
            versions=r.plain_obj("versions"),
            imported_from=imported,
            format_version=version,
            clip_extra=clip_extra,
            clip_keys=tuple(r.data["clip"]),
            extra=r.extra(known),
            key_order=tuple(r.data),
        )

    def _json_items(self) -> dict:
        items = super()._json_items()
        settings, defaults = self.clip.to_dict(), ClipSettings().to_dict()
        clip = {**settings, **self.clip_extra}
        if self.clip_keys:  # as read: the keys it had, plus any setting changed from its default since
            clip = {k: clip[k] for k in self.clip_keys if k in clip} | {
                k: v for k, v in settings.items() if k not in self.clip_keys and v != defaults[k]
            }
        items["clip"] = clip
        return {"format": FORMAT, **items}

    def to_dict(self) -> dict:
        out = super().to_dict()
        if not self.key_order and not self.imported_from:
            out.pop("imported_from", None)
        if not self.key_order:  # a new manifest: the order new_manifest always wrote
            head = ["format", "format_version", "name", "created", "source", "classes", "clip", "models"]
            head += ["dataset", "split", "training", "versions"]
            ordered = {k: out[k] for k in head if k in out}
            ordered.update({k: v for k, v in out.items() if k not in ordered and k != "files"})
            ordered["files"] = out["files"]
            return ordered
        return out

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        return cls.from_dict(_load_json(text, MANIFEST_NAME))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _clip_settings(r: _Fields) -> tuple[ClipSettings, dict]:
    """The clip settings: JSON types checked here, each value by ClipSettings' own table of what it may be."""
    known = {}
    for f in fields(ClipSettings):
        if f.name not in r.data:
            continue
        value = r.whole(f.name, required=True) if f.type == "int" else r.text(f.name, required=True)
        problem = ClipSettings.problem(f.name, value)
        if problem:
            raise r.fail(f.name, problem)
        known[f.name] = value
    return ClipSettings(**known), r.extra(tuple(known) + tuple(f.name for f in fields(ClipSettings)))


# --------------------------------------------------------------------------- report.json
@dataclass
class ClassMetrics(_Record):
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    support: int | None = None
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    @classmethod
    def from_fields(cls, r: _Fields) -> ClassMetrics:
        keys = ("precision", "recall", "f1", "support")
        return cls(
            precision=r.number("precision"),
            recall=r.number("recall"),
            f1=r.number("f1"),
            support=r.whole("support", minimum=0),
            extra=r.extra(keys),
            key_order=tuple(r.data),
        )


@dataclass
class TestMetrics(_Record):
    """One model on the test clips: Table 1's numbers, per class, and the confusion matrix."""

    __test__ = False  # not a pytest test class, whatever its name says

    clips: int | None = None
    accuracy: float | None = None
    loss: float | None = None
    macro_precision: float | None = None
    macro_recall: float | None = None
    macro_f1: float | None = None
    per_class: dict[str, ClassMetrics] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)
    top5_accuracy: float | None = None
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    @classmethod
    def from_fields(cls, r: _Fields) -> TestMetrics:
        per_class = {
            name: ClassMetrics.from_fields(r.obj("per_class").obj(name, True)) for name, _ in r.items("per_class")
        }
        confusion = r.array("confusion") or []
        for i, row in enumerate(confusion):
            if not isinstance(row, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in row):
                raise r.fail(f"confusion[{i}]", f"must be a list of whole numbers, got {_shown(row)}")
        if any(len(row) != len(confusion) for row in confusion):
            raise r.fail("confusion", "must be a square matrix (one row and one column per class)")
        keys = tuple(f.name for f in fields(cls) if f.name not in ("extra", "key_order"))
        return cls(
            clips=r.whole("clips", minimum=0),
            accuracy=r.number("accuracy"),
            loss=r.number("loss"),
            macro_precision=r.number("macro_precision"),
            macro_recall=r.number("macro_recall"),
            macro_f1=r.number("macro_f1"),
            per_class=per_class,
            confusion=confusion,
            top5_accuracy=r.number("top5_accuracy"),
            extra=r.extra(keys),
            key_order=tuple(r.data),
        )


@dataclass
class Misclassified(_Record):
    """One test clip a model got wrong, and the bundle's frame strip of it."""

    clip: str
    true: str
    predicted: str
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    image: str | None = None  # a path inside the bundle (listed in the manifest's files)
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    @classmethod
    def from_fields(cls, r: _Fields) -> Misclassified:
        probabilities = r.obj("probabilities")
        if probabilities is not None:
            for name in probabilities.data:
                probabilities.number(name, required=True)
        keys = ("clip", "true", "predicted", "confidence", "probabilities", "image")
        return cls(
            clip=r.text("clip", required=True),
            true=r.text("true", required=True),
            predicted=r.text("predicted", required=True),
            confidence=r.number("confidence"),
            probabilities=dict(probabilities.data) if probabilities else {},
            image=r.path_in_bundle("image", required=False),
            extra=r.extra(keys),
            key_order=tuple(r.data),
        )


@dataclass
class ModelReport(_Record):
    """One model's training run and test results."""

    history: dict[str, list[float]] = field(default_factory=dict)  # per epoch: loss, accuracy, val_*
    epochs_trained: int | None = None
    best_epoch: int | None = None
    train_seconds: float | None = None
    params: int | None = None
    test: TestMetrics | None = None
    misclassified: list[Misclassified] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    @classmethod
    def from_fields(cls, r: _Fields) -> ModelReport:
        history = r.obj("history")
        wrong = r.array("misclassified") or []
        keys = tuple(f.name for f in fields(cls) if f.name not in ("extra", "key_order"))
        test = r.obj("test")
        return cls(
            history={k: history.numbers(k) for k in history.data} if history else {},
            epochs_trained=r.whole("epochs_trained", minimum=0),
            best_epoch=r.whole("best_epoch", minimum=0),
            train_seconds=r.number("train_seconds"),
            params=r.whole("params", minimum=0),
            test=TestMetrics.from_fields(test) if test else None,
            misclassified=[
                Misclassified.from_fields(_Fields(r.file, e, r.name(f"misclassified[{i}]")))
                for i, e in enumerate(wrong)
            ],
            extra=r.extra(keys),
            key_order=tuple(r.data),
        )


@dataclass
class Report(_Record):
    """report.json: the test split, the dataset, and every model's results. Empty when a bundle has none."""

    models: dict[str, ModelReport] = field(default_factory=dict)
    split: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)
    bundle: str | None = None  # `evaluate --out`: which bundle was evaluated
    augmentation: dict | None = None  # the with/without augmentation ablation, when one was run
    extra: dict = field(default_factory=dict)
    key_order: tuple = _order()

    @property
    def synthetic(self) -> bool:
        return bool(self.dataset.get("synthetic", False))

    @property
    def split_kind(self) -> str:
        return str(self.split.get("kind") or "")

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        r = _Fields(REPORT_NAME, data)
        models = {name: ModelReport.from_fields(r.obj("models").obj(name, True)) for name, _ in r.items("models")}
        augmentation = r.obj("augmentation")
        return cls(
            models=models,
            split=_split_info(r, "split"),
            dataset=_dataset_info(r, "dataset"),
            bundle=r.text("bundle"),
            augmentation=dict(augmentation.data) if augmentation else None,
            extra=r.extra(("models", "split", "dataset", "bundle", "augmentation")),
            key_order=tuple(r.data),
        )

    def image_paths(self) -> list[str]:
        return [e.image for m in self.models.values() for e in m.misclassified if e.image]

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        return cls.from_dict(_load_json(text, REPORT_NAME))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)
