"""The Train tab's training actions: the model choice, train (a stream of page updates), stop, push.

Plain functions of the per-process `StudioState` (studio_actions.py), the engine registry and the
page's inputs, returning plain values (`KEEP`, `Shown`: studio_actions.py); studio_tab.py wires them. The queue and the training are har_demo/studio/trainer.py,
which imports har_demo.training only inside its training thread; the Hub push is imported when
asked for. A finished training (or its first models, while the rest train) becomes THIS browser
session's bundle: its engine key is returned for `ctx.session`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from har_demo import plots
from har_demo.app.session_models import serve_folder
from har_demo.app.studio_actions import KEEP, Shown, StudioState, session_id
from har_demo.app.studio_lesson import lesson_curves
from har_demo.names import MODEL_NAMES, PRETRAINED_NAMES, display_name
from har_demo.studio.errors import StudioError
from har_demo.studio.lesson import memory_caveat, single_person_classes, warnings
from har_demo.studio.trainer import TrainOptions


def model_choices(with_pretrained: bool) -> list[tuple[str, str]]:
    """(name shown, key) of the models offered: the report's two, and the pretrained kinds when
    their weights package is installed (`pretrained_unavailable()` is None)."""
    names = MODEL_NAMES + PRETRAINED_NAMES if with_pretrained else MODEL_NAMES
    return [(display_name(m), m) for m in names]


def evaluation_markdown(report: dict) -> str:
    split = report.get("split", {})
    lines = [
        f"**Held-out evaluation** ({split.get('test_clips', '?')} test clips from groups the models "
        f"did not train on; {split.get('train_clips', '?')} training clips):",
        "",
        "| model | accuracy | loss | epochs | training time |",
        "|---|---|---|---|---|",
    ]
    for name, result in report.get("models", {}).items():
        test = result.get("test", {})
        lines.append(
            f"| {display_name(name)} | {test.get('accuracy', 0):.0%} | {test.get('loss', 0):.3f} | "
            f"{result.get('epochs_trained', '?')} | {result.get('train_seconds', '?')} s |"
        )
    wrong = [(n, w) for n, r in report.get("models", {}).items() for w in r.get("misclassified", [])]
    if wrong:
        lines += [
            "",
            "**Misclassified:** "
            + "; ".join(
                f"{display_name(n)} called {w['clip']} {w['predicted']} ({w['confidence']:.0%})" for n, w in wrong[:12]
            ),
        ]
    return "\n".join(lines)


def stopped_markdown(report: dict, chosen: list[str] | tuple[str, ...]) -> str:
    """What a stopped training kept, in words: each trained model's epochs, and the models never started."""
    trained = report.get("models", {})
    kept = [
        f"{display_name(m)} as trained for {r.get('epochs_trained', '?')} epoch{'s' if r.get('epochs_trained') != 1 else ''}"
        for m, r in trained.items()
    ]
    skipped = [display_name(m) for m in chosen if m not in trained]
    text = "**Stopped.** The bundle keeps " + (" and ".join(kept) or "no model") + "."
    if skipped:
        text += f" {' and '.join(skipped)} {'was' if len(skipped) == 1 else 'were'} not trained."
    return text


def evaluation_outputs(bundle: Path, report: dict, caveat: str = "") -> tuple:
    """(evaluation text, two confusion matrices as `Shown` (hidden when absent), misclassified strips)
    of a trained bundle."""
    models = report.get("models", {})
    confusions = [
        plots.confusion_heatmap(r["test"]["confusion"], report["dataset"]["classes"], m, "held-out")
        for m, r in models.items()
    ] + [None, None]
    strips = [
        (str(bundle / w["image"]), f"{display_name(m)}: {w['clip']} → {w['predicted']}")
        for m, r in models.items()
        for w in r.get("misclassified", [])
        if w.get("image")
    ]
    return (
        evaluation_markdown(report) + (f"\n\n{caveat}" if caveat else ""),
        Shown(confusions[0] is not None, confusions[0]),
        Shown(confusions[1] is not None, confusions[1]),
        strips,
    )


def serve_bundle(registry, old_key: str | None, ref) -> str:
    """Serve a bundle this session trained (a studio folder) to it; the old session engine is dropped.

    Raises SessionRefused (a sentence) when it is beyond the host's bounds or cannot get room.
    """
    return serve_folder(registry, Path(ref), "trained in this session", old_key)


def train(
    state: StudioState, registry, sid: str | None, key: str | None, chosen_models, epoch_count, from_shipped=True
) -> Iterator[tuple]:
    """Queue a training of this session's clips; yields (studio id, engine key, progress, curves,
    evaluation, confusion, confusion, misclassified strips, bundle download) as it goes: plain values,
    the download a `Shown` (or `KEEP` while the rest train)."""
    sid = session_id(sid)
    class_set = state.sessions.class_set(sid)
    empty = (None, None, [], Shown(False))
    options = TrainOptions(models=tuple(chosen_models or ()), epochs=int(epoch_count), warm_start=bool(from_shipped))
    try:
        job = state.trainer.start(sid, class_set, options)
    except StudioError as exc:
        yield sid, key, f"⚠ {exc}", None, "", *empty
        return
    state.jobs[sid] = job
    figure = None
    warned = "".join(f"  \n⚠ {w}" for w in warnings(class_set))
    caveat = memory_caveat(single_person_classes(class_set))
    for event in job.events():
        if event.kind in ("queued", "started"):
            yield sid, key, event.message + warned, figure, "", *empty
        elif event.kind == "epoch":
            figure = lesson_curves(event.history)
            left = f" · about {event.seconds_left:.0f} s left" if event.seconds_left is not None else ""
            yield sid, key, f"{event.message}{left}", figure, "", *empty
        elif event.kind == "error":
            state.jobs.pop(sid, None)
            yield sid, key, f"⚠ {event.message}", figure, "", *empty
            return
        elif event.kind == "ready":  # the first model(s): served now, while the rest train
            figure = lesson_curves(event.history)
            try:
                key = serve_bundle(registry, key, event.bundle)
                message = f"{event.message} Every tab of this session uses it now, while the rest train."
            except Exception as exc:  # a full server: the final bundle will be tried again
                message = f"{event.message} ⚠ It could not be served here: {exc}"
            yield sid, key, message, figure, *evaluation_outputs(event.bundle, event.report, caveat), KEEP
        elif event.kind == "done":
            state.jobs.pop(sid, None)
            state.bundles[sid] = event.bundle
            figure = lesson_curves(event.history)
            message = event.message
            if event.stopped:
                message = f"{stopped_markdown(event.report, chosen_models or MODEL_NAMES)} {message}"
            try:
                new_key = serve_bundle(registry, key, event.bundle)
                message += " This session now serves the new models in every tab."
            except Exception as exc:  # a full server: the bundle is still downloadable
                new_key = key
                message += f" ⚠ It could not be served here: {exc}"
            zipped = shutil.make_archive(str(event.bundle.parent / f"{event.bundle.name}-bundle"), "zip", event.bundle)
            yield (
                sid,
                new_key,
                message,
                figure,
                *evaluation_outputs(event.bundle, event.report, caveat),
                Shown(True, zipped),
            )
            return


def stop(state: StudioState, sid: str | None) -> str:
    """Stop this session's training after the current batch; what happens, in a sentence."""
    job = state.jobs.get(sid or "")
    if job is None:
        return "Nothing is training."
    job.stop()
    return "Stopping after the current batch; the models trained so far are kept."


def push(state: StudioState, sid: str | None, repo: str | None, token: str | None) -> tuple[str, str]:
    """Push this session's last bundle to the Hub: (status sentence, the cleared token box)."""
    from har_demo.hub import push_bundle

    bundle = state.bundles.get(sid or "")
    if bundle is None:
        return "⚠ Train first: there is no bundle of this session to push.", ""
    if not (repo or "").strip() or not token:
        return "⚠ Give the repo id and a write token.", ""
    try:
        pushed = push_bundle(bundle, repo.strip(), token=token)
    except Exception as exc:  # HubError messages are scrubbed of the token by har_demo.hub
        return f"⚠ {type(exc).__name__}: {exc}", ""
    finally:
        token = None
    return f"Pushed to **{pushed.repo_id}** ({pushed.revision}, commit {pushed.commit[:7]}).", ""
