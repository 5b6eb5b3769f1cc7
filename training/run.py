"""A whole training run: cache -> splits -> each model trained and evaluated -> one bundle."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from har_demo.split_kinds import window_seconds
from har_demo.training import distribution, sharding
from har_demo.training.augment import dense_frames
from har_demo.training.checkpoint import Interrupted, RunState, check_scratch, differences, plain, with_new_defaults
from har_demo.training.config import TrainConfig, check_clip_shape, seed_everything
from har_demo.training.dataset import (
    FrameCache,
    build_cache,
    check_splits,
    default_cache_dir,
    make_splits,
)
from har_demo.training.evaluate import evaluate_model, format_table
from har_demo.training.fit import train_one
from har_demo.training.output import (
    OutputRefused,
    check_output,
    is_scratch,
    new_scratch,
    publish,
    scratch_path,
)
from har_demo.training.tf_strategy import is_chief, make_strategy


def _headline(metrics: dict) -> dict:
    keys = ("clips", "accuracy", "loss", "macro_f1", "top5_accuracy")
    return {k: metrics[k] for k in keys if k in metrics}


def _summary(info: dict, evaluation: dict) -> dict:
    return {
        **_headline(evaluation["test"]),
        "epochs_trained": info["epochs_trained"],
        "best_epoch": info["best_epoch"],
        "train_seconds": info["train_seconds"],
    }


def train_bundle(
    data: Path,
    out: Path,
    config: TrainConfig,
    classes: list[str] | None = None,
    settings=None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    strategy=None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    options: dict | None = None,
    cache: FrameCache | None = None,
    callbacks: list | tuple = (),
    stop=None,
    log: Callable[..., None] = print,
    on_first_models: Callable[[Path], None] | None = None,
) -> Path:
    """The whole run: cache -> splits -> train each model -> evaluate -> bundle at `out`.

    `out` must be new, empty, or (with `overwrite`) a bundle; the new bundle is built in
    `out.partial` and swapped in when complete. With `resume`, an interrupted run's progress there
    is continued (same data and config, else refused). `options`: the CLI's resolved options,
    kept with the run so `--resume` alone reuses them. `strategy`: the tf.distribute strategy named
    by `config.strategy`, if the caller made it already (MultiWorkerMirroredStrategy must be made
    before TensorFlow runs anything). `cache`: frames already decoded (e.g. the studio's);
    `callbacks`: extra Keras callbacks for each model's fit; `stop`: a threading.Event, once set no
    further model is trained (the bundle holds those trained so far); `log`: where the run's lines
    go (anything but `print` also silences Keras's progress output); `on_first_models`: called
    after each model but the last with a complete bundle of the models trained so far, written
    beside `out` (`<out>.first-N`), so a page can serve them while the rest train. Ctrl-C raises
    `Interrupted` with what was kept.
    """
    from har_demo.bundle import new_manifest, save_models, write_manifest, write_report

    out = Path(out)
    if strategy is None:
        strategy = make_strategy(config.strategy)
    chief = (strategy is None or is_chief(strategy)) and sharding.is_chief()
    scratch = scratch_path(out)
    if chief:  # every refusal before the slow work
        check_output(out, overwrite)
        check_scratch(scratch, resume)
    check_clip_shape(config.models, settings)
    state = RunState(scratch, {})
    try:
        seed_everything(config.seed)
        state.where = "decoding clips"
        windows = window_seconds(config.split)  # long clips cut into windows of their group (tiny sets)
        if cache is None:  # several processes: the chief decodes, the others read its cache (a shared disk)
            cache = sharding.chief_first(
                lambda: build_cache(data, classes, settings, cache_dir, workers, window_seconds=windows),
                cache_dir or default_cache_dir(),
            )
        if config.motion != cache.settings.motion:  # made from the same frames: only the model input changes
            cache.settings = cache.settings.with_(motion=config.motion)
        labels = [cache.classes[i] for i in cache.labels]
        splits = make_splits(
            cache.groups, labels, config.split, config.test_fraction, config.val_fraction, config.seed, cache.paths
        )
        check_splits(splits, labels, cache.classes)
        clips = [Path(p).name for p in cache.paths]
        sharding.check_same("clips or split", [clips, labels, splits.train.tolist(), splits.val.tolist()])
        augment = config.augmentation
        dense = None
        if augment.jitter:
            dense_settings = cache.settings.with_(
                frames=dense_frames(cache.settings.frames, augment.jitter_factor), sampling="uniform"
            )
            log(f"Temporal jitter: a second cache of {dense_settings.frames} frames per clip for training")
            dense = sharding.chief_first(
                lambda: build_cache(data, cache.classes, dense_settings, cache_dir, workers, window_seconds=windows),
                cache_dir or default_cache_dir(),
            )
        run_info = plain(
            {
                "config": asdict(config),
                "classes": cache.classes,
                "clip": cache.settings.to_dict(),
                "dataset": cache.name,
                "split": splits.describe(),
            }
        )
        resumed = False
        if not chief:  # other workers train, the chief writes
            state = RunState(Path(tempfile.mkdtemp(prefix="har-worker-")), {})
        elif resume and scratch.exists():
            state = RunState(scratch)
            stored = with_new_defaults(state.data.get("run"))
            if stored is not None and stored != run_info:
                changed = differences(stored.get("config", {}), run_info["config"]) or differences(stored, run_info)
                raise OutputRefused(
                    f"The interrupted run in {scratch} was made with other settings: {'; '.join(changed[:4])}. "
                    "Resume it with the same data and settings, or delete that folder to start over."
                )
            resumed = True
            log(f"Resuming the interrupted run in {scratch}")
        else:
            if resume:
                log(f"No interrupted run at {scratch}; starting a new one.")
            new_scratch(out, "train")
            state = RunState(scratch, {"kind": "train", "out": str(out), "run": run_info, "options": options or {}})
            state.save()
        state.data["units"] = sharding.follow_chief(state.units, scratch, state.folder)  # the chief's progress
        folder = state.folder

        def stop_asked() -> bool:
            return stop is not None and stop.is_set()

        def write_bundle_files(dest: Path, results: dict, entries: dict, ablation: dict) -> dict:
            """report.json and manifest.json in `dest` for the models of `entries` (their files are there)."""
            dataset = {
                "name": cache.name,  # not the local path: bundles get published
                "synthetic": cache.synthetic,
                "clips": int(len(cache.labels)),
                "classes": cache.classes,
                "skipped": cache.skipped,
            }
            report = {"split": splits.describe(), "dataset": dataset, "models": results}
            if ablation:
                report["augmentation"] = {
                    "augment": augment.to_dict(),
                    "note": "test metrics of the same models trained with and without augmentation "
                    f"(same {splits.kind} split, seed {config.seed}); the bundle holds the augmented ones",
                    "models": ablation,
                }
            write_report(dest, report)
            training = {k: v for k, v in asdict(config).items() if k not in ("models", "extra")} | config.extra
            training["augment"] = {"enabled": augment.enabled, **augment.to_dict()}
            training["resumed"] = resumed
            if strategy is not None:
                training["replicas"] = int(strategy.num_replicas_in_sync)
            manifest = new_manifest(
                name=f"{cache.name}-{config.split}-split",
                classes=cache.classes,
                settings=cache.settings,
                models=entries,
                source="trained",
                dataset=dataset,
                split=splits.describe(),
                training=training,
            )
            write_manifest(dest, manifest)  # hashes every file; the marker (a dot file) is not one of them
            return report

        results, entries, ablation = {}, {}, {}
        for name in config.models:
            if stop_asked() and results:
                break  # stopped: the models trained so far make the bundle
            unit = state.units.get(name, {})
            if unit.get("done"):
                log(f"\n{name}: finished before the interruption; kept from {folder}")
            else:
                seed_everything(config.seed)  # each model starts from the same seed, whichever runs first
                model, info = train_one(
                    name, cache, splits, config, augment=augment, dense=dense, strategy=strategy,
                    state=state, key=name, callbacks=callbacks, log=log,
                )  # fmt: skip
                state.where = f"evaluating {name}"
                with distribution.local_only():
                    evaluation = evaluate_model(name, model, cache, splits.test, image_dir=folder / "misclassified")
                row = None
                if config.augment_ablation and augment.any:
                    seed_everything(config.seed)
                    log(f"\nAblation: {name} again without augmentation, same split and seed")
                    key = f"{name}-without-augmentation"
                    baseline, base_info = train_one(
                        name, cache, splits, config, strategy=strategy, state=state, key=key, log=log
                    )  # fmt: skip
                    with distribution.local_only():
                        without = evaluate_model(name, baseline, cache, splits.test)
                    row = {"with": _summary(info, evaluation), "without": _summary(base_info, without)}
                unit = {
                    "done": True,
                    "result": {**info, **evaluation},
                    "entry": save_models(folder, {name: model})[name],
                }
                if row:
                    unit["ablation"] = row
                state.update(name, unit)
            results[name], entries[name] = unit["result"], unit["entry"]
            if unit.get("ablation"):
                ablation[name] = unit["ablation"]
            if on_first_models is not None and chief and name != config.models[-1] and not stop_asked():
                state.where = "writing the bundle of the models so far"
                preview = out.parent / f"{out.name}.first-{len(entries)}"
                on_first_models(_first_models_bundle(folder, preview, results, entries, write_bundle_files))
        state.where = "writing the bundle"

        if not chief:
            sharding.wait_for_chief("bundle-written")
            if state.folder != scratch:  # this process's own temporary copy of the run state
                shutil.rmtree(state.folder, ignore_errors=True)
            return out
        checkpoints = folder / "checkpoints"
        if checkpoints.is_dir():
            # rmtree is safe: this run created checkpoints/ inside its own marked scratch folder, and
            # the bundle now holds the best weights.
            shutil.rmtree(checkpoints)
        report = write_bundle_files(folder, results, entries, ablation)
        publish(folder, out, overwrite)
        sharding.wait_for_chief("bundle-written")
    except KeyboardInterrupt:
        if state.folder == scratch and is_scratch(scratch):
            kept = f"checkpoints kept in {scratch}; rerun with --resume to continue"
        else:
            kept = "nothing was written"
        raise Interrupted(f"Interrupted in {state.where}; {kept} (the bundle at {out} is unchanged).") from None
    log("\n" + format_table(report))
    log(f"Bundle written to {out}" + (" (resumed)" if resumed else ""))
    for name, row in ablation.items():
        w, wo = row["with"], row["without"]
        log(
            f"augmentation ({augment.describe()}) {name}: test accuracy {w['accuracy']:.2%} with, "
            f"{wo['accuracy']:.2%} without"
        )
    return out


def _first_models_bundle(folder: Path, dest: Path, results: dict, entries: dict, write_files) -> Path:
    """A new bundle at `dest` of the models trained so far: their files and strips copied from the
    run's `folder`, then its own report and manifest (`write_files`, the run's writer)."""
    dest.mkdir(parents=True)
    for name, entry in entries.items():
        shutil.copy2(folder / entry["file"], dest / entry["file"])
        for wrong in results[name].get("misclassified", []):
            if wrong.get("image"):
                (dest / wrong["image"]).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / wrong["image"], dest / wrong["image"])
    write_files(dest, dict(results), dict(entries), {})
    return dest
