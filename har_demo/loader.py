"""`load_bundle(ref)`: one way in for every bundle, whatever the reference names.

A reference is a local folder, the shipped bundle's name ("weights", from any folder), or a Hub
repo `OWNER/NAME[@REVISION]`. This module sits above both `har_demo.bundle` (local folders) and
`har_demo.hub` (the Hub round trip), so neither imports the other's caller: the layers point down.
"""

from __future__ import annotations

from pathlib import Path

from har_demo import hub
from har_demo.bundle import MANIFEST_NAME, Bundle, BundleError, load_bundle_folder
from har_demo.shipped import SHIPPED_BUNDLE, SHIPPED_NAME


def resolve_bundle_path(ref: str | Path) -> tuple[Path, str]:
    """The local folder a reference names (fetched into the HF cache for a Hub ref), and where it came from in words.

    For a Hub reference the words pin the commit (`owner/name@abc1234`).
    """
    path = Path(ref).expanduser()
    if path.is_dir():
        return path, str(ref)
    text = str(ref)
    if text == SHIPPED_NAME:  # `--bundle weights` from any folder: the bundle this package ships
        return SHIPPED_BUNDLE, "the shipped weights"
    if path.exists():
        raise BundleError(f"{text} is a file; a bundle is a folder with {MANIFEST_NAME}.")
    if hub.is_hub_ref(text):
        folder = hub.resolve_bundle(text)
        commit = hub.snapshot_commit(folder)
        repo_id, _ = hub.parse_bundle_ref(text)
        return folder, f"{repo_id}@{commit[:7]}" if commit else text
    raise BundleError(f"No bundle folder at {text} (and it is not an OWNER/NAME Hub repo id).")


def load_bundle(ref: str | Path, *, models: list[str] | None = None) -> Bundle:
    """Load a bundle from a folder, the shipped name or a Hub reference, verifying every file before use."""
    return load_resolved(*resolve_bundle_path(ref), models=models)


def load_resolved(path: Path, origin: str, *, models: list[str] | None = None) -> Bundle:
    """Load the folder `resolve_bundle_path` gave (a caller may read its manifest first, without Keras)."""
    return load_bundle_folder(path, models=models, origin=origin, links_within=hub.snapshot_links_root(path))
