"""The Hugging Face Hub round trip: publish a bundle with its model card, fetch one back by repo id.

A bundle on the Hub is the bundle folder itself at the root of ONE model repo (manifest.json,
convlstm.keras, lrcn.keras, report.json, misclassified/*.jpg) plus a README.md model card. Keras 3's
`hf://` saving holds one model per repo and cannot pin a revision, and huggingface_hub 2.x dropped
the Keras mixins, so this module uses the plain client: `create_repo` + `upload_folder` to publish,
`snapshot_download` to fetch.

A reference is `OWNER/NAME` or `OWNER/NAME@REVISION` (a branch, tag or commit sha). Fetching goes
through the standard HF cache, so a bundle loaded once loads again with `HF_HUB_OFFLINE=1` or with
the Hub unreachable; a commit sha is immutable and needs no network at all once cached. Every file
is checked against the manifest's sha256 before it is handed on.

No TensorFlow here, and huggingface_hub is imported only when a function runs: the app and the CLI
import this module early.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from har_demo.bundle import (
    MANIFEST_NAME,
    REPORT_NAME,
    BundleError,
    bundle_file,
    read_manifest,
    verify_files,
)
from har_demo.model_card import CARD_NAME, build_model_card

log = logging.getLogger(__name__)

# The paths a bundle owns in its repo: a re-push deletes stale ones (old misclassified strips, a
# model the new bundle no longer has) and leaves anything else a person added alone.
BUNDLE_PATTERNS = [MANIFEST_NAME, CARD_NAME, REPORT_NAME, "*.keras", "misclassified/*"]
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REF_RE = re.compile(rf"^(?P<repo>{_NAME}/{_NAME})(?:@(?P<revision>[^\s@]+))?$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


class HubError(BundleError):
    """A Hub operation that failed; the message says why in words and what to do about it."""


class Pushed(NamedTuple):
    repo_id: str
    revision: str  # the branch pushed to
    commit: str  # the new commit's sha: `OWNER/NAME@<commit>` loads exactly this upload forever
    url: str  # the commit's page


# --------------------------------------------------------------------------- references
def parse_bundle_ref(ref: str) -> tuple[str, str | None]:
    """`OWNER/NAME[@REVISION]` -> (repo_id, revision or None)."""
    match = _REF_RE.match(str(ref).strip())
    if not match:
        raise HubError(
            f"{ref!r} is not a Hub bundle reference: expected OWNER/NAME or OWNER/NAME@REVISION "
            "(a branch, tag or commit sha), e.g. alice/har-ucf50@main."
        )
    return match.group("repo"), match.group("revision")


_STRICT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
_STRICT_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


def check_hub_ref(text: str) -> str:
    """`text` stripped if it is strictly OWNER/NAME[@REVISION] (never a path: no `..`, `~`, leading `/`).

    For a field any visitor fills in: the answer never depends on what exists on the server.
    """
    ref = str(text or "").strip()
    repo, _, revision = ref.partition("@")
    owner, slash, name = repo.partition("/")
    parts_ok = slash and all(_STRICT_NAME.match(p) and ".." not in p and "--" not in p for p in (owner, name))
    revision_ok = not revision or (_STRICT_REVISION.match(revision) and ".." not in revision and "//" not in revision)
    if not (parts_ok and revision_ok and "@" not in revision):
        raise HubError(
            "Give a Hub model repo as OWNER/NAME or OWNER/NAME@REVISION (letters, digits, '-', '_' and '.'), "
            "for example alice/har-ucf50@main."
        )
    return ref


def is_hub_ref(ref: str | Path) -> bool:
    """True for a string shaped like OWNER/NAME[@REVISION] that is not an existing local path."""
    text = str(ref)
    return not Path(text).expanduser().exists() and _REF_RE.match(text.strip()) is not None


# --------------------------------------------------------------------------- environment
def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _offline() -> bool:
    """HF_HUB_OFFLINE, read now: huggingface_hub reads it once, at import."""
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or _env_true("HF_HUB_OFFLINE")


def _endpoint(endpoint: str | None) -> str | None:
    """HF_ENDPOINT, read now (huggingface_hub froze it at import); None means the client's default."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None


def _shown_endpoint(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return _endpoint(endpoint) or constants.ENDPOINT


def _cache_dir(cache_dir: str | Path | None) -> str | None:
    """HF_HUB_CACHE / HF_HOME, read now; None leaves the client's default (~/.cache/huggingface/hub)."""
    if cache_dir:
        return str(cache_dir)
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    return None


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


# --------------------------------------------------------------------------- load
def resolve_bundle(
    ref: str,
    *,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
) -> Path:
    """Fetch the bundle `OWNER/NAME[@REVISION]` into the HF cache; return its snapshot folder.

    Two steps, both `snapshot_download`: the manifest at the revision (which pins the commit), then
    exactly the files the manifest lists at that commit. Works from the cache alone when
    HF_HUB_OFFLINE=1 or the Hub cannot be reached. A file that does not match its manifest hash is
    fetched once more (a damaged cache heals when online); if it still differs, HubError.
    """
    from huggingface_hub import snapshot_download

    repo_id, revision = parse_bundle_ref(ref)
    offline = _offline()
    common = dict(
        repo_id=repo_id,
        cache_dir=_cache_dir(cache_dir),
        endpoint=_endpoint(endpoint),
        token=token,
        local_files_only=offline,
    )
    where = f"{repo_id}@{revision}" if revision else repo_id
    with _hub_errors(where, revision, endpoint, offline, _token_text(token)):
        folder = Path(snapshot_download(revision=revision, allow_patterns=[MANIFEST_NAME], **common))
        commit = folder.name  # snapshots/<commit sha>/
        if not (folder / MANIFEST_NAME).is_file():
            raise HubError(f"{where} has no {MANIFEST_NAME}: it is not a har-demo bundle repo.")
        try:
            manifest = read_manifest(folder)
        except BundleError as exc:
            raise HubError(f"{where}: {exc}") from exc
        wanted = [MANIFEST_NAME, *(_literal(path) for path in manifest.files)]  # not the card, not .gitattributes
        folder = Path(snapshot_download(revision=commit, allow_patterns=wanted, **common))
        links = snapshot_links_root(folder)
        try:
            verify_files(folder, manifest, links)
        except BundleError as first:
            if offline:
                raise HubError(
                    f"{where} (commit {commit[:7]}) in the local cache is damaged: {first} "
                    "Unset HF_HUB_OFFLINE to fetch it again."
                ) from first
            log.warning("%s: %s Fetching the files again.", where, first)
            snapshot_download(revision=commit, allow_patterns=wanted, force_download=True, **common)
            try:
                verify_files(folder, manifest, links)
            except BundleError as exc:
                raise HubError(
                    f"{where} (commit {commit[:7]}) as served by {_shown_endpoint(endpoint)}: {exc}"
                ) from exc
    return folder


def snapshot_commit(folder: str | Path) -> str | None:
    """The commit sha of a folder resolve_bundle returned (…/snapshots/<sha>), else None."""
    name = Path(folder).name
    return name if _SHA_RE.match(name) and Path(folder).parent.name == "snapshots" else None


def snapshot_links_root(folder: str | Path) -> Path | None:
    """Where the files of a Hub cache snapshot may link to (the repo's blob store); None for other folders."""
    return Path(folder).parent.parent / "blobs" if snapshot_commit(folder) else None


def _literal(path: str) -> str:
    """A file name as an fnmatch pattern that matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def _token_text(token: str | bool | None) -> str | None:
    if isinstance(token, str):
        return token
    from huggingface_hub import get_token

    return get_token()


class _hub_errors:
    """Turn huggingface_hub / network exceptions into HubError messages a person can act on."""

    def __init__(
        self,
        where: str,
        revision: str | None,
        endpoint: str | None,
        offline: bool,
        token: str | None,
        writing: bool = False,
    ):
        self.where, self.revision, self.endpoint = where, revision, endpoint
        self.offline, self.token, self.writing = offline, token, writing

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, HubError):
            return False
        message = self.message(exc)
        if message is None:
            return False
        raise HubError(_scrub(message, self.token)) from exc

    def message(self, exc: BaseException) -> str | None:
        import httpx2
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            LocalEntryNotFoundError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        hub = _shown_endpoint(self.endpoint)
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if isinstance(exc, GatedRepoError):
            return (
                f"{self.where} is a gated repo: accept its conditions on its page at {hub}, then log in "
                "(`hf auth login`) or set HF_TOKEN to a token of the account that has access."
            )
        if isinstance(exc, RepositoryNotFoundError):
            if self.writing:
                return (
                    f"{self.where} does not exist on {hub} and could not be created with this token; "
                    "check the OWNER part (your user or an organisation you can write to)."
                )
            return (
                f"No repo {self.where} on {hub} (or it is private and no token with access was given). "
                "Check the name; for a private repo log in (`hf auth login`) or set HF_TOKEN."
            )
        if isinstance(exc, RevisionNotFoundError):
            return f"{self.where}: the repo has no revision {self.revision!r} (no such branch, tag or commit)."
        if isinstance(exc, LocalEntryNotFoundError):  # offline or unreachable, and not in the cache
            if self.offline:
                return (
                    f"{self.where} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids "
                    "downloading it. Load it once online (or set HF_HUB_CACHE to the cache that has it)."
                )
            return (
                f"Could not reach the Hub at {hub} and {self.where} is not in the local cache: "
                "check the network (or HF_ENDPOINT), then try again."
            )
        if isinstance(exc, (httpx2.ConnectError, httpx2.TimeoutException, OfflineModeIsEnabled, ConnectionError)):
            if isinstance(exc, OfflineModeIsEnabled) or self.offline:
                return f"HF_HUB_OFFLINE=1 is set, so {self.where} cannot be {'pushed' if self.writing else 'fetched'}."
            return f"Could not reach the Hub at {hub} ({type(exc).__name__}); check the network or HF_ENDPOINT."
        if isinstance(exc, HfHubHTTPError):
            server = exc.server_message if getattr(exc, "server_message", None) else ""
            if status == 401:
                return (
                    "The Hub refused the token (401: invalid or expired). Log in again with "
                    "`hf auth login` or set HF_TOKEN to a valid token." + (f" Server: {server}" if server else "")
                )
            if status == 403:
                return (
                    f"This token may not write to {self.where} (403). Use a token with write access to "
                    f"that namespace." + (f" Server: {server}" if server else "")
                )
            return f"The Hub at {hub} answered {status} for {self.where}: {server or exc}"
        return None


# --------------------------------------------------------------------------- push
def stage_upload(folder: str | Path, out: str | Path, repo_id: str | None = None) -> Path:
    """Write exactly what a push uploads into `out`: the manifest, the files it lists, a README.md card.

    The bundle's hashes are checked first; files in the folder that the manifest does not list
    are not uploaded (and are named in a warning).
    """
    folder, out = Path(folder), Path(out)
    links = snapshot_links_root(folder)  # a bundle straight from the HF cache can be pushed on
    manifest = read_manifest(folder)
    verify_files(folder, manifest, links)
    listed = set(manifest.files) | {MANIFEST_NAME}
    extra = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in listed | {CARD_NAME}
    )
    if extra:
        log.warning("Not uploading files the manifest does not list: %s", ", ".join(extra))
    if out.exists() and any(out.iterdir()):
        raise HubError(f"{out} is not empty; give a new folder for the files to upload.")
    out.mkdir(parents=True, exist_ok=True)
    for relative in sorted(listed):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(bundle_file(folder, relative, links), target)
    build_model_card(folder, repo_id, links).save(out / CARD_NAME)
    return out


def push_bundle(
    folder: str | Path,
    repo_id: str,
    *,
    revision: str | None = None,
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
    endpoint: str | None = None,
) -> Pushed:
    """Publish a bundle folder to the model repo `repo_id` (created if missing) in one commit.

    `revision` is a branch (created from main if missing); the default is main. The token is the
    one given, else huggingface_hub's (HF_TOKEN, then the `hf auth login` cache); it is only ever
    sent in the Authorization header.
    """
    from huggingface_hub import HfApi, get_token

    repo_id, ref_revision = parse_bundle_ref(repo_id)
    revision = revision or ref_revision
    if revision and _SHA_RE.match(revision):
        raise HubError(f"--revision {revision} is a commit sha; a push goes to a branch (e.g. main, experiments).")
    token = token or get_token()
    if not token:
        raise HubError(
            "No Hugging Face token: log in with `hf auth login` (or `huggingface-cli login`), or set "
            "HF_TOKEN to a token with write access (https://huggingface.co/settings/tokens)."
        )
    folder = Path(folder)
    manifest = read_manifest(folder)
    where = f"{repo_id}@{revision}" if revision else repo_id
    message = commit_message or f"Upload har-demo bundle {manifest.name or folder.name}"
    api = HfApi(endpoint=_endpoint(endpoint), token=token)
    with tempfile.TemporaryDirectory(prefix="har-push-") as tmp:
        staged = stage_upload(folder, Path(tmp) / "upload", repo_id)
        with _hub_errors(where, revision, endpoint, _offline(), token, writing=True):
            api.create_repo(repo_id, private=private, exist_ok=True)
            if revision and revision != "main":
                api.create_branch(repo_id, branch=revision, exist_ok=True)
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=staged,
                revision=revision,
                commit_message=message,
                delete_patterns=BUNDLE_PATTERNS,
            )
    return Pushed(repo_id, revision or "main", info.oid, info.commit_url)
