"""A session's own models: loaded within the host's bounds, freed when the session goes.

Every way a visitor gets models of their own (a studio training, imported .h5/.keras files, a Hub
bundle) comes through `serve_folder` (`serve_reference` for the Hub field, `import_files` for weight
files), which in this order: checks the reference (the Hub field takes OWNER/NAME[@REVISION]
only, unless the host allows server folders), reads the manifest, holds
its clip shape to the host's model bounds, estimates the memory, makes room in the registry
(evicting the least recently used session), and only then loads Keras. Every refusal is a
`SessionRefused` whose message is a sentence for the page; no server path is ever in it.

The page's unload event (`end_session`) frees the session's models and studio folder at once;
gradio itself would wait an hour after the tab closes.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from har_demo.app.engine import EngineRegistry, SessionLimitReached
from har_demo.bundle import BundleError, bundle_file, load_bundle_folder, read_manifest
from har_demo.model_bounds import ModelBounds, check_model_file, estimate_bytes
from har_demo.request_limits import Limits


class SessionRefused(Exception):
    """Own models that are not served; the message is a sentence for the page."""


def session_owner() -> str | None:
    """The gradio session hash of the request being handled (None outside a request)."""
    try:
        from gradio.context import LocalContext

        request = LocalContext.request.get(None)
    except (ImportError, LookupError):
        return None
    return getattr(request, "session_hash", None) if request is not None else None


def bounds(limits: Limits) -> ModelBounds:
    return ModelBounds(limits.model_max_frames, limits.model_max_side, limits.model_max_channels)


def bundle_estimate(folder: Path, limits: Limits, links_within: Path | None = None) -> int:
    """The memory a bundle folder will take when served, from its manifest and file sizes (no Keras)."""
    from har_demo.model_bounds import batch_windows
    from har_demo.timeline import BATCH_SIZE

    manifest = read_manifest(folder)
    check_class_names(manifest.classes)
    s = manifest.clip
    bounds(limits).check(s.frames, s.height, s.width, s.channels, "This bundle")
    weights = 0
    for name, entry in manifest.models.items():
        path = bundle_file(folder, entry.file, links_within)  # refused if it leaves the bundle folder
        if path.is_file():
            check_model_file(path, bounds(limits), f"Its {name} model")
            weights += path.stat().st_size
    batch = batch_windows(
        s.frames, s.height, s.width, s.channels, int(limits.timeline_batch_mb * 1024 * 1024), BATCH_SIZE
    )
    return estimate_bytes(weights, len(manifest.models), s.frames, s.height, s.width, s.channels, batch)


CLASS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.,()'+-]{0,47}$")


def check_class_names(classes: list[str]) -> None:
    """Class names a page can show as they are: letters, digits, spaces and a little punctuation."""
    bad = [c for c in classes if not CLASS_NAME.match(str(c))]
    if bad:
        raise BundleError(
            f"{len(bad)} class name{'s are' if len(bad) > 1 else ' is'} not usable here (for example "
            f"{html.escape(str(bad[0])[:40])!r}): class names are 1-48 letters, digits, spaces and . , ( ) ' + - _ "
            "starting with a letter or digit. The models were not loaded."
        )


def resolve_reference(ref: str, limits: Limits) -> tuple[Path, str]:
    """(local folder, origin in words) for a visitor's Hub field: Hub refs only unless the host allows folders."""
    from har_demo import hub

    text = str(ref or "").strip()
    if limits.hub_local_paths:
        from har_demo.loader import resolve_bundle_path

        return resolve_bundle_path(text)
    checked = hub.check_hub_ref(text)
    folder = hub.resolve_bundle(checked)
    commit = hub.snapshot_commit(folder)
    repo_id, _ = hub.parse_bundle_ref(checked)
    return folder, f"{repo_id}@{commit[:7]}" if commit else checked


def serve_folder(
    registry: EngineRegistry, folder: Path, origin: str, old_key: str | None, links_within: Path | None = None
) -> str:
    """Check, estimate, make room, load and serve a bundle folder to the current session; returns its key.

    `origin` is what the page shows as where the bundle came from: never a server path.
    """
    limits = registry.limits
    owner = session_owner()
    try:
        nbytes = bundle_estimate(folder, limits, links_within)
        registry.make_room(nbytes, owner, replacing=old_key)  # before the load: a refusal costs nothing
        bundle = load_bundle_folder(folder, origin=origin, links_within=links_within)
        key = registry.add(bundle, nbytes=nbytes, owner=owner, replacing=old_key)
    except (BundleError, SessionLimitReached) as exc:
        raise SessionRefused(scrub(str(exc), folder)) from exc
    if old_key:
        registry.drop(old_key)
    return key


def serve_reference(registry: EngineRegistry, ref: str, old_key: str | None) -> str:
    """The Hub field: a Hub bundle (or, when the host allows it, a server folder) for this session."""
    from har_demo import hub

    try:
        folder, origin = resolve_reference(ref, registry.limits)
    except BundleError as exc:
        raise SessionRefused(str(exc)) from exc
    return serve_folder(registry, folder, origin, old_key, links_within=hub.snapshot_links_root(folder))


def import_files(
    registry: EngineRegistry, work: Path, files: list[Path], classes: list[str], old_key: str | None
) -> str:
    """Tutorial .h5/.keras files -> a bundle in `work` (removed afterwards) -> this session's models."""
    from har_demo.training.import_weights import import_bundle

    limits = registry.limits
    try:
        for path in files:
            check_model_file(path, bounds(limits), Path(path).name)
        out = Path(work) / "bundle"
        try:
            import_bundle(out, files, classes)
        except (ValueError, OSError) as exc:  # BundleError is a ValueError
            raise SessionRefused(scrub(str(exc), work)) from exc
        return serve_folder(registry, out, "imported files", old_key)
    except BundleError as exc:
        raise SessionRefused(scrub(str(exc), work)) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the models are in memory now; nothing of the import stays


def scrub(text: str, *folders: Path) -> str:
    """A message without the server folders it may name."""
    for folder in folders:
        for form in {str(folder), str(Path(folder).resolve())}:
            text = text.replace(form + "/", "").replace(form, "the upload")
    return text


def back_to_shipped(registry: EngineRegistry, key: str | None) -> tuple[None, str]:
    """Free this session's own models: it serves the shipped ones again."""
    if key is None or registry.get(key) is registry.default:
        return None, "This session already serves the shipped models."
    registry.drop(key)
    return None, "Back to the shipped models: this session's own models are freed for another group."


def capacity_markdown(registry: EngineRegistry) -> str:
    """The Train tab's line on how many groups can hold their own models now."""
    typical = engine_estimate_of_default(registry)
    free = registry.room_for(typical)
    total = registry.capacity_for(typical)
    held = len(registry)
    idle = registry.limits.session_idle_s / 60
    return (
        f"**Room for own models:** {free} more group{'s' if free != 1 else ''} can hold their own trained or "
        f"imported models now ({held} held, about {total} in all at {typical / 2**20:,.0f} MB a group). "
        f"When the server is full the least recently used group goes back to the shipped models; own models "
        f"are also freed after {idle:g} minutes without a request and when the page is closed."
    )


def engine_estimate_of_default(registry: EngineRegistry) -> int:
    from har_demo.app.engine import engine_bytes

    return engine_bytes(registry.default)


def end_session(registry: EngineRegistry, studio=None) -> None:
    """The page went away (gradio's unload): free its own models and its studio folder now."""
    owner = session_owner()
    if owner is None:
        return
    registry.drop_owner(owner)
    if studio is not None:
        studio.end(owner)
