"""A loopback stand-in for the Hugging Face Hub, for the REAL huggingface_hub client.

There is no internet where the tests run, so the tests point the client at this server through
`HF_ENDPOINT` (or `endpoint=`) and run the real upload and download code paths against it. It
speaks the part of the Hub HTTP API that huggingface_hub 2.4's `create_repo`, `create_branch`,
`upload_folder`, `hf_hub_download` and `snapshot_download` actually call (read from the installed
client's source), with the status codes and headers the client turns into its own exceptions.

Endpoints (model repos only; `{repo}` is `owner/name`, `{rev}` a branch or a 40-hex commit sha,
URL-quoted as the client sends it):

    GET  /api/whoami-v2                          who the bearer token belongs to
    GET  /api/agent-harnesses                    the client's progress display asks; answered empty
    POST /api/repos/create                       {"name", "organization", "visibility"}; 409 if it exists
    POST /api/validate-yaml                      README.md front matter check (upload_folder calls it)
    GET  /api/models/{repo}                      repo info at the default branch (sha, siblings)
    GET  /api/models/{repo}/revision/{rev}       repo info at a revision
    GET  /api/models/{repo}/refs                 branches (create_branch's exist_ok fallback)
    GET  /api/models/{repo}/tree/{rev}[/{path}]  ?recursive=&expand=; pages of `page_size` entries,
                                                 next page in a `Link: <...>; rel="next"` header
    POST /api/models/{repo}/preupload/{rev}      always answers uploadMode "regular" (inline base64)
    POST /api/models/{repo}/commit/{rev}         NDJSON: header / file / deletedFile / deletedFolder
                                                 lines; honours parentCommit (412 when stale);
                                                 create_pr and lfsFile are refused with 400
    POST /api/models/{repo}/branch/{branch}      {"startingPoint"}; 409 if it exists
    HEAD /{repo}/resolve/{rev}/{path}            ETag (git blob sha1), X-Repo-Commit, Content-Length
    GET  /{repo}/resolve/{rev}/{path}            the bytes (Range: bytes=N- honoured)

Errors carry the headers the client maps to exceptions: `X-Error-Code: RepoNotFound` (401 without
a token, 404 with one, as the Hub does), `RevisionNotFound`, `EntryNotFound` (with X-Repo-Commit),
`GatedRepo`; a bad token gets 401 "Invalid credentials in Authorization header"; writing without a
token gets 401, into someone else's namespace 403. Anything else is a 404 recorded in `unknown`,
so a test can assert the client asked for nothing this file does not know about.

Every commit is stored as a full snapshot (path -> bytes), so older revisions stay downloadable
by commit sha. State lives in memory and dies with the server.

Run it by hand for a CLI session against it:

    python tests/hub_server.py --token alice:hf_test_token   # prints the endpoint URL
    HF_ENDPOINT=http://127.0.0.1:PORT HF_TOKEN=hf_test_token har-demo push ...
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
DEFAULT_GITATTRIBUTES = b"*.keras filter=lfs diff=lfs merge=lfs -text\n*.h5 filter=lfs diff=lfs merge=lfs -text\n"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a file: what the Hub sends as a regular file's ETag and tree oid."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Commit:
    sha: str
    parent: str | None
    title: str
    description: str
    date: str
    files: dict[str, bytes]  # the whole tree at this commit


@dataclass
class Repo:
    repo_id: str
    private: bool = False
    gated: bool = False
    created: str = field(default_factory=_now)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # branch -> head commit sha

    @property
    def owner(self) -> str:
        return self.repo_id.split("/", 1)[0]

    def resolve(self, revision: str) -> Commit | None:
        if revision in self.branches:
            return self.commits[self.branches[revision]]
        if SHA_RE.match(revision):
            return self.commits.get(revision)
        return None


class HubError(Exception):
    """An error answer: status, the Hub's X-Error-Code (or None), and a message."""

    def __init__(self, status: int, code: str | None, message: str, commit: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.commit = status, code, message, commit
        self.extra = extra  # more JSON fields of the error body


class HubServer:
    """The server and its in-memory repos. `with HubServer(tokens={...}) as hub: hub.url`."""

    def __init__(self, tokens: dict[str, str] | None = None, page_size: int = 1000, host: str = "127.0.0.1"):
        self.tokens = dict(tokens or {})  # token -> user name (who may write under that namespace)
        self.page_size = page_size
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, user)
        self.unknown: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self._counter = 0
        self._httpd = ThreadingHTTPServer((host, 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.hub = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="hub-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: later connections are refused (a network failure)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers for tests
    def head(self, repo_id: str, branch: str = "main") -> str:
        return self.repos[repo_id].branches[branch]

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        commit = self.repos[repo_id].resolve(revision)
        if commit is None:
            raise KeyError(revision)
        return commit.files

    def tamper(self, repo_id: str, path: str, data: bytes, revision: str = "main") -> None:
        """Change a stored file in place, without a commit: a damaged or dishonest mirror."""
        with self.lock:
            self.files(repo_id, revision)[path] = data

    def create_repo(self, repo_id: str, *, private: bool = False, gated: bool = False) -> Repo:
        """Create a repo with the Hub's initial commit (a .gitattributes on main)."""
        with self.lock:
            repo = Repo(repo_id, private=private, gated=gated)
            first = self._new_commit(repo, None, "initial commit", "", {".gitattributes": DEFAULT_GITATTRIBUTES})
            repo.branches["main"] = first.sha
            self.repos[repo_id] = repo
            return repo

    def _new_commit(self, repo: Repo, parent: Commit | None, title: str, description: str, files: dict) -> Commit:
        self._counter += 1
        seed = json.dumps(
            [
                repo.repo_id,
                parent.sha if parent else None,
                title,
                self._counter,
                sorted((p, git_blob_sha1(b)) for p, b in files.items()),
            ]
        )
        commit = Commit(
            hashlib.sha1(seed.encode()).hexdigest(),
            parent.sha if parent else None,
            title,
            description,
            _now(),
            dict(files),
        )
        repo.commits[commit.sha] = commit
        return commit

    # ------------------------------------------------------------------ access rules
    def user_for(self, authorization: str | None) -> str | None:
        """The user of a bearer token; HubError(401) for a token the server does not know."""
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def readable(self, repo_id: str, user: str | None) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and user != repo.owner):
            # The Hub does not say whether a repo exists to someone who may not see it.
            raise HubError(401 if user is None else 404, "RepoNotFound", "Repository not found")
        return repo

    def writable(self, repo_id: str, user: str | None) -> Repo:
        if user is None:
            raise HubError(401, None, "You must be authenticated to write to a repo (no token sent)")
        repo = self.readable(repo_id, user)
        if user != repo.owner:
            raise HubError(403, None, f"You don't have the rights to write to {repo_id}")
        return repo

    def check_file_access(self, repo: Repo, user: str | None) -> None:
        if repo.gated and user != repo.owner:
            raise HubError(
                401 if user is None else 403,
                "GatedRepo",
                f"Access to model {repo.repo_id} is restricted. You must have access to it.",
            )

    @staticmethod
    def commit_or_404(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return commit

    # ------------------------------------------------------------------ endpoint bodies
    def whoami(self, user: str | None) -> dict:
        if user is None:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        return {
            "type": "user",
            "name": user,
            "fullname": user,
            "orgs": [],
            "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": "write"}},
        }

    def api_create_repo(self, user: str | None, body: dict) -> dict:
        if user is None:
            raise HubError(401, None, "You must be authenticated to create a repo (no token sent)")
        if body.get("type", "model") != "model":
            raise HubError(400, None, "This test server only knows model repos")
        namespace = body.get("organization") or user
        name = body.get("name") or ""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", name):
            raise HubError(400, None, f"Invalid repo name {name!r}")
        if namespace != user:
            raise HubError(403, None, f"You don't have the rights to create a model under the namespace {namespace!r}")
        repo_id = f"{namespace}/{name}"
        with self.lock:
            if repo_id in self.repos:
                # The Hub's 409 body carries the url: create_repo(exist_ok=True) reads it.
                raise HubError(409, None, "You already created this model repo", url=f"{self.url}/{repo_id}")
            private = body.get("visibility", "private" if body.get("private") else "public") != "public"
            self.create_repo(repo_id, private=private)
        return {"url": f"{self.url}/{repo_id}", "name": repo_id, "id": repo_id}

    def repo_info(self, repo: Repo, revision: str) -> dict:
        commit = self.commit_or_404(repo, revision)
        return {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.owner,
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.created,
            "private": repo.private,
            "gated": "manual" if repo.gated else False,
            "disabled": False,
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": [{"rfilename": path} for path in sorted(commit.files)],
        }

    def refs(self, repo: Repo) -> dict:
        return {
            "branches": [
                {"name": b, "ref": f"refs/heads/{b}", "targetCommit": sha} for b, sha in sorted(repo.branches.items())
            ],
            "converts": [],
            "tags": [],
        }

    def tree(self, repo: Repo, revision: str, path: str, recursive: bool) -> list[dict]:
        commit = self.commit_or_404(repo, revision)
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in commit.files):
            if path.strip("/") in commit.files:  # the Hub lists a file path as that one file
                prefix = None
            else:
                raise HubError(404, "EntryNotFound", f"{path} does not exist on {revision}", commit.sha)
        entries: dict[str, dict] = {}
        for file_path, data in sorted(commit.files.items()):
            if prefix is None:
                if file_path != path.strip("/"):
                    continue
                rest = file_path
            elif not file_path.startswith(prefix):
                continue
            else:
                rest = file_path[len(prefix) :]
            parts = rest.split("/") if prefix is not None else [rest]
            for depth in range(1, len(parts)):  # the folders on the way
                folder = (prefix or "") + "/".join(parts[:depth])
                if (recursive or depth == 1) and folder not in entries:
                    entries[folder] = {
                        "type": "directory",
                        "oid": hashlib.sha1(folder.encode()).hexdigest(),
                        "size": 0,
                        "path": folder,
                    }
            if recursive or len(parts) == 1:
                entries[file_path] = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": file_path}
        return list(entries.values())

    def preupload(self, repo: Repo, revision: str, body: dict) -> dict:
        commit = repo.resolve(revision)  # a missing branch is an error at commit time, as on the Hub
        files = []
        for item in body.get("files", []):
            entry = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            if commit is not None and item["path"] in commit.files:
                entry["oid"] = git_blob_sha1(commit.files[item["path"]])
            files.append(entry)
        return {"files": files, "commitOid": commit.sha if commit else None}

    def commit(self, repo: Repo, revision: str, lines: list[dict], params: dict) -> dict:
        if params.get("create_pr", ["0"])[0] not in ("0", "false", ""):
            raise HubError(400, None, "This test server does not open pull requests (create_pr)")
        if revision not in repo.branches:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision} (commits go to a branch)")
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, None, "The first NDJSON line of a commit must be its header")
        header = lines[0]["value"]
        with self.lock:
            parent = repo.commits[repo.branches[revision]]
            if header.get("parentCommit") and header["parentCommit"] != parent.sha:
                raise HubError(
                    412,
                    None,
                    f"A commit has happened since {header['parentCommit']}; parentCommit is not the head of the branch",
                )
            files = dict(parent.files)
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value", {})
                path = value.get("path", "")
                if not path or path.startswith("/") or ".." in path.split("/"):
                    raise HubError(400, None, f"Invalid path in commit: {path!r}")
                if key == "file":
                    if value.get("encoding") != "base64":
                        raise HubError(400, None, "Only base64 file content is supported")
                    files[path] = base64.b64decode(value["content"])
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, "EntryNotFound", f"Cannot delete {path}: no such file")
                elif key == "deletedFolder":
                    folder = path.rstrip("/") + "/"
                    for p in [p for p in files if p.startswith(folder)]:
                        del files[p]
                elif key == "lfsFile":
                    raise HubError(400, None, "This test server takes regular (inline) files only")
                else:
                    raise HubError(400, None, f"Unknown commit operation {key!r}")
            new = self._new_commit(repo, parent, header.get("summary", ""), header.get("description", ""), files)
            repo.branches[revision] = new.sha
        return {
            "success": True,
            "commitOid": new.sha,
            "commitUrl": f"{self.url}/{repo.repo_id}/commit/{new.sha}",
            "hookOutput": "",
        }

    def create_branch(self, repo: Repo, branch: str, body: dict) -> dict:
        with self.lock:
            if branch in repo.branches:
                raise HubError(409, None, f"Branch {branch} already exists")
            start = self.commit_or_404(repo, body.get("startingPoint") or "main")
            repo.branches[branch] = start.sha
        return {}


class _Handler(BaseHTTPRequestHandler):
    server_version = "loopback-hub/1"
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    @property
    def hub(self) -> HubServer:
        return self.server.hub  # type: ignore[attr-defined]

    def log_message(self, format, *args) -> None:  # requests are recorded in hub.requests instead
        pass

    # ------------------------------------------------------------------ plumbing
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, payload=None, headers: dict | None = None, body: bytes | None = None, head: bool = False
    ) -> None:
        if body is None:
            body = json.dumps(payload if payload is not None else {}).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, error: HubError, head: bool = False) -> None:
        headers = {"X-Error-Message": error.message}
        if error.code:
            headers["X-Error-Code"] = error.code
        if error.commit:
            headers["X-Repo-Commit"] = error.commit
        self._send(error.status, {"error": error.message, **error.extra}, headers, head=head)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        segments = url.path.strip("/").split("/")
        try:
            user = self.hub.user_for(self.headers.get("Authorization"))
        except HubError as error:
            self.hub.requests.append((method, url.path, None))
            return self._error(error, head=method == "HEAD")
        self.hub.requests.append((method, url.path, user))
        try:
            self._route(method, segments, params, user)
        except HubError as error:
            self._error(error, head=method == "HEAD")

    # ------------------------------------------------------------------ routes
    def _route(self, method: str, seg: list[str], params: dict, user: str | None) -> None:
        hub = self.hub
        if method == "GET" and seg == ["api", "whoami-v2"]:
            return self._send(200, hub.whoami(user))
        if method == "GET" and seg == ["api", "agent-harnesses"]:
            return self._send(200, {"standardEnvVars": [], "harnesses": {}})
        if method == "POST" and seg == ["api", "repos", "create"]:
            return self._send(200, hub.api_create_repo(user, json.loads(self._body() or b"{}")))
        if method == "POST" and seg == ["api", "validate-yaml"]:
            return self._validate_yaml(json.loads(self._body() or b"{}"))
        if len(seg) >= 4 and seg[:2] == ["api", "models"]:
            return self._model_api(method, f"{seg[2]}/{seg[3]}", [unquote(s) for s in seg[4:]], params, user)
        if len(seg) >= 5 and seg[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(
                method, f"{seg[0]}/{seg[1]}", unquote(seg[3]), "/".join(unquote(s) for s in seg[4:]), user
            )
        hub.unknown.append((method, self.path))
        raise HubError(404, None, f"The loopback hub has no {method} {self.path}")

    def _model_api(self, method: str, repo_id: str, rest: list[str], params: dict, user: str | None) -> None:
        hub = self.hub
        flag = lambda name: params.get(name, ["false"])[0].lower() in ("1", "true")  # noqa: E731
        if method == "GET" and not rest:
            return self._send(200, hub.repo_info(hub.readable(repo_id, user), "main"))
        if method == "GET" and len(rest) == 2 and rest[0] == "revision":
            return self._send(200, hub.repo_info(hub.readable(repo_id, user), rest[1]))
        if method == "GET" and rest == ["refs"]:
            return self._send(200, hub.refs(hub.readable(repo_id, user)))
        if method == "GET" and len(rest) >= 2 and rest[0] == "tree":
            entries = hub.tree(hub.readable(repo_id, user), rest[1], "/".join(rest[2:]), flag("recursive"))
            start = int(params.get("cursor", ["0"])[0])
            page, headers = entries[start : start + hub.page_size], {}
            if start + hub.page_size < len(entries):
                query = urlencode(
                    {
                        "recursive": str(flag("recursive")),
                        "expand": str(flag("expand")),
                        "cursor": start + hub.page_size,
                    }
                )
                path = "/".join(quote(s, safe="") for s in rest)
                headers["Link"] = f'<{hub.url}/api/models/{repo_id}/{path}?{query}>; rel="next"'
            return self._send(200, page, headers)
        if method == "POST" and len(rest) == 2 and rest[0] == "preupload":
            repo = hub.writable(repo_id, user)
            return self._send(200, hub.preupload(repo, rest[1], json.loads(self._body() or b"{}")))
        if method == "POST" and len(rest) == 2 and rest[0] == "commit":
            repo = hub.writable(repo_id, user)
            lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
            return self._send(200, hub.commit(repo, rest[1], lines, params))
        if method == "POST" and len(rest) == 2 and rest[0] == "branch":
            repo = hub.writable(repo_id, user)
            return self._send(200, hub.create_branch(repo, rest[1], json.loads(self._body() or b"{}")))
        hub.unknown.append((method, self.path))
        raise HubError(404, None, f"The loopback hub has no {method} {self.path}")

    def _resolve(self, method: str, repo_id: str, revision: str, path: str, user: str | None) -> None:
        hub = self.hub
        repo = hub.readable(repo_id, user)
        hub.check_file_access(repo, user)
        commit = hub.commit_or_404(repo, revision)
        data = commit.files.get(path)
        if data is None:
            raise HubError(404, "EntryNotFound", f"{path} does not exist at {revision}", commit.sha)
        headers = {
            "X-Repo-Commit": commit.sha,
            "ETag": f'"{git_blob_sha1(data)}"',
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
            "Content-Disposition": f'inline; filename="{path.rsplit("/", 1)[-1]}"',
        }
        status, body = 200, data
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if method == "GET" and match and int(match.group(1)) < len(data):
            start = int(match.group(1))
            status, body = 206, data[start:]
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        self._send(status, headers=headers, body=body, head=method == "HEAD")

    def _validate_yaml(self, body: dict) -> None:
        import yaml  # a dependency of huggingface_hub

        content = body.get("content", "")
        match = re.match(r"^---\n(.*?)\n---\n", content, flags=re.DOTALL)
        if not match:
            return self._send(200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]})
        try:
            data = yaml.safe_load(match.group(1))
            if not isinstance(data, dict):
                raise ValueError("the front matter is not a mapping")
        except Exception as exc:  # noqa: BLE001 - any YAML problem is the uploader's error
            return self._send(400, {"errors": [{"message": f"Invalid YAML: {exc}"}], "warnings": []})
        return self._send(200, {"errors": [], "warnings": []})


def main() -> None:
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Serve a loopback Hugging Face Hub stand-in until Ctrl-C.")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="USER:TOKEN",
        help="a write token and the user (namespace) it belongs to; repeatable",
    )
    args = parser.parse_args()
    tokens = {token: user for user, token in (item.split(":", 1) for item in args.token)}
    with HubServer(tokens=tokens) as hub:
        print(hub.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
