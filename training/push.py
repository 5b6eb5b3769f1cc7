"""`har-demo push`: publish a bundle (both models, report, images, model card) to the Hub.

    har-demo push --bundle runs/ucf50 --repo alice/har-ucf50
    har-demo push --bundle runs/ucf50 --repo alice/har-ucf50 --revision experiments --private
    har-demo push --bundle runs/ucf50 --repo alice/har-ucf50 --dry-run review/   # uploads nothing

The token comes from huggingface_hub's usual places (HF_TOKEN, then `hf auth login`'s cache), or
from the environment variable named by --token-env. It is never printed, logged or uploaded; there
is deliberately no --token option (a token on the command line ends up in shell history and `ps`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=Path, required=True, help="the bundle folder to publish")
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the model repo (created if missing)")
    parser.add_argument(
        "--revision",
        "--branch",
        dest="revision",
        metavar="BRANCH",
        help="push to this branch (created from main if missing); default main",
    )
    parser.add_argument(
        "--private", action="store_true", help="create the repo private (an existing repo keeps its visibility)"
    )
    parser.add_argument("--message", help="commit message")
    parser.add_argument(
        "--dry-run",
        type=Path,
        metavar="OUT",
        help="write the exact folder that would be uploaded (files + README.md card) to OUT; upload nothing",
    )
    parser.add_argument("--token-env", metavar="VAR", help="read the token from this environment variable instead")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from har_demo.bundle import BundleError
    from har_demo.hub import parse_bundle_ref, push_bundle, stage_upload

    try:
        repo_id, ref_revision = parse_bundle_ref(args.repo)
        revision = args.revision or ref_revision
        if args.dry_run is not None:
            out = stage_upload(args.bundle, args.dry_run, repo_id)
            files = sorted(p for p in out.rglob("*") if p.is_file())
            print(
                f"Dry run: the {len(files)} files that would be pushed to {repo_id}"
                f" ({revision or 'main'}) are in {out}:"
            )
            for path in files:
                print(f"  {path.relative_to(out).as_posix():<40} {path.stat().st_size:>10,} bytes")
            print("Nothing was uploaded. Read README.md (the model card) before pushing for real.")
            return 0
        token = None
        if args.token_env:
            token = os.environ.get(args.token_env)
            if not token:
                return _fail(f"--token-env {args.token_env}: that environment variable is not set or empty.")
        pushed = push_bundle(
            args.bundle, repo_id, revision=revision, private=args.private, token=token, commit_message=args.message
        )
    except BundleError as exc:  # HubError is a BundleError
        return _fail(str(exc))
    print(f"Pushed {args.bundle} to {pushed.repo_id} (branch {pushed.revision}), commit {pushed.commit[:7]}")
    print(f"  {pushed.url}")
    print("  Load this exact upload (pinned):")
    print(f"    python -m har_demo predict CLIP --bundle {pushed.repo_id}@{pushed.commit}")
    print(
        f"  or the latest on the branch:  --bundle {pushed.repo_id}"
        + (f"@{pushed.revision}" if pushed.revision != "main" else "")
    )
    return 0
