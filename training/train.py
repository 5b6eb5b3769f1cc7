"""`har-demo train`: the report's training run, ending in a model bundle.

Defaults are the report's: Adam, categorical cross-entropy, batch 4, at most 30 epochs, early
stopping on val_loss (patience 5, best weights restored), 25% test, 20% of training for
validation, seed 27. `--config FILE` reads a recipe (configs/shipped.toml, configs/report.toml;
see training/recipe.py); flags override it.

Nothing is deleted that the tool did not write (training/output.py): the bundle is built in
`OUT.partial` beside OUT and swapped in when complete, so the old bundle stays until then. That
folder keeps each model's best weights and last state (with the optimizer) after every epoch; on
Ctrl-C the run stops with one line saying what was kept, and `--resume` skips the finished models
and continues the interrupted one from its last epoch.

Beyond the report (docs/future_work.md): `--augment` (training/augment.py: crop, flip, temporal
jitter, colour; training split only; `--augment-ablation` also trains without it and puts both
test results in report.json), `--frames/--size` for other clip shapes, and `--strategy` to train
through tf.distribute (MirroredStrategy over several GPUs, or over `--cpu-devices N` logical CPU
devices; MultiWorkerMirroredStrategy over several machines, configured by TF_CONFIG).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from har_demo.backend import BackendError, tensorflow_only
from har_demo.clip import ClipSettings
from har_demo.names import PRETRAINED_NAMES
from har_demo.training import distribution, sharding
from har_demo.training.augment import AugmentConfig
from har_demo.training.checkpoint import Interrupted, check_scratch
from har_demo.training.config import SettingsError, TrainConfig, check_clip_shape
from har_demo.training.dataset import DatasetError, add_cache_arguments, parse_classes, scan_dataset
from har_demo.training.options import DEFAULTS, add_option_arguments, model_names
from har_demo.training.output import (
    OutputRefused,
    check_output,
    is_scratch,
    read_marker,
    scratch_path,
)
from har_demo.training.presets import AUTO, NONE, PRESETS, apply_preset, choose_preset
from har_demo.training.recipe import RecipeError, load_recipe, resolve, synth_arguments, synthetic_mismatch
from har_demo.training.run import train_bundle
from har_demo.training.tf_strategy import configure_cpu_devices, make_strategy
from har_demo.training.warm_start import WarmStartError, check_source

TINY_FLAG = {"on": "tiny", "off": NONE, "auto": AUTO}  # --tiny, the older spelling of --preset
PRETRAINED_SIZE = 128  # har_demo.pretrained.DEFAULT_SIZE, said here so the verb's options load no Keras

EXIT_INTERRUPTED = 130  # what a shell reports for a Ctrl-C


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("data", type=Path, help="UCF50-style folder: ROOT/<Class>/<clip>.avi")
    add("--config", type=Path, default=None, help="a recipe (TOML, e.g. configs/shipped.toml); flags override it")
    add("--out", type=Path, default=Path("runs/bundle"), help="bundle folder to write (new, empty, or a bundle)")
    add("--overwrite", action="store_true", help="replace the bundle already at --out (once the new one is complete)")
    add("--resume", action="store_true", help="continue the interrupted run kept in OUT.partial")
    add_option_arguments(parser)  # training/options.py: every setting, recipe-able, default None here
    add(
        "--cpu-devices",
        type=int,
        default=None,
        help="split the CPU into N logical devices (for --strategy mirrored without GPUs)",
    )
    parser.add_argument(
        "--tiny",
        default=None,
        choices=tuple(TINY_FLAG),
        help="the older spelling of --preset: on = tiny, off = none, auto = auto",
    )
    add_cache_arguments(parser)


def resolve_options(args: argparse.Namespace) -> tuple[dict, dict]:
    """(options, synth): defaults < the recipe's [train] < flags; and the recipe's [synth].

    With --resume, the interrupted run's own options are used; a flag or recipe asking otherwise is refused.
    """
    from har_demo.training.recipe import TRAIN_KEYS

    recipe = load_recipe(args.config) if args.config else {"train": {}, "synth": {}}
    explicit = _explicit(args)
    options = resolve(explicit, recipe["train"], DEFAULTS)
    scratch = scratch_path(args.out)
    if args.resume and is_scratch(scratch):
        stored = read_marker(scratch).get("options") or {}
        asked = {k for k in TRAIN_KEYS if explicit.get(k) is not None or k in recipe["train"]}
        conflicts = [
            f"{k.replace('_', '-')} {stored[k]!r} (asked: {options[k]!r})"
            for k in sorted(asked)
            if k in stored and stored[k] != options[k]
        ]
        if conflicts:
            raise RecipeError(
                f"The interrupted run in {scratch} used {'; '.join(conflicts)}; drop those settings to resume it, "
                "or delete that folder to start over."
            )
        options = {**options, **stored}
    return options, recipe["synth"]


def _explicit(args: argparse.Namespace) -> dict:
    """The options given as flags (None: not given); `--tiny X` is `--preset` by its older name."""
    from har_demo.training.recipe import TRAIN_KEYS

    explicit = {key: getattr(args, key, None) for key in TRAIN_KEYS}
    tiny = TINY_FLAG.get(getattr(args, "tiny", None))
    if tiny is not None and explicit["preset"] not in (None, tiny):
        raise RecipeError(f"--tiny {args.tiny} asks for the preset {tiny!r}, --preset for {explicit['preset']!r}.")
    explicit["preset"] = explicit["preset"] or tiny
    return explicit


def _asked(args: argparse.Namespace) -> set[str]:
    """The training options a person set, by a flag or in the recipe (a preset leaves those alone)."""
    recipe = load_recipe(args.config)["train"] if args.config else {}
    return {k for k, v in _explicit(args).items() if v is not None or k in recipe}


def prepare_data(data: Path, synth: dict, recipe: Path | None, workers: int | None = None) -> None:
    """Make the recipe's synthetic dataset if DATA does not exist; refuse one made otherwise."""
    if not synth:
        return
    data = Path(data)
    meta_path = data / "SYNTHETIC.json"
    if not data.exists():
        from har_demo.training.synth import write_synthetic_dataset

        print(f"{data} does not exist: writing the synthetic dataset {recipe} describes first.")
        summary = write_synthetic_dataset(data, **synth_arguments(synth), workers=workers)
        print(summary.line())
    elif meta_path.is_file():
        mismatch = synthetic_mismatch(json.loads(meta_path.read_text()), synth)
        if mismatch:
            raise RecipeError(
                f"{data} is a synthetic dataset made with other settings than {recipe} says: {'; '.join(mismatch)}. "
                "Give a new DATA folder (it is written for you) or the one the recipe made."
            )
    else:
        print(f"note: {recipe} describes a synthetic dataset, but {data} is not one; its [synth] is not used.")


def choose_preset_for(
    config: TrainConfig, args: argparse.Namespace, name: str, asked: set[str], classes, settings: ClipSettings
) -> tuple[TrainConfig, str]:
    """The run's preset applied to the options a person did not set (`asked`), and the line announcing it.

    `auto` chooses by the dataset's size (training/presets.py), unless a recipe (that names no
    preset) or `--split` was given, since those are runs someone specified, or on `--resume`
    without a recorded preset (the interrupted run's settings decide).
    """
    if name == AUTO:
        if args.resume:
            return config, "Preset: none (resuming: the interrupted run's settings decide)."
        if "split" in asked:
            return config, "Preset: none (a split was chosen)."
        if args.config and "preset" not in asked:
            return config, f"Preset: none (the recipe {args.config.name} decides)."
        records = scan_dataset(args.data, parse_classes(classes))
        n_classes = len({r.label for r in records})
        preset = choose_preset(len(records), n_classes)
        size = f"a dataset of {len(records)} clips in {n_classes} classes"
        if preset is None:
            return config, f"Preset: none (none is made for {size})."
        why = f"chosen for {size}"
    else:
        why = "the interrupted run's" if args.resume and "preset" not in asked else "asked"
        if name == NONE:
            return config, f"Preset: none ({why})."
        preset = PRESETS[name]
    config = apply_preset(config, preset, settings, keep=asked)
    chosen = config.extra["preset_fields"]
    shown = {
        k: ",".join(n for n, on in v.items() if on is True) if isinstance(v, dict) else v for k, v in chosen.items()
    }
    sets = ", ".join(f"{k}={v}" for k, v in shown.items()) or "nothing: every option it sets was given"
    return config, f"Preset: {preset.name} ({why}); sets {sets}."


def run(args: argparse.Namespace) -> int:
    try:
        check_output(args.out, args.overwrite)  # refusals first, before TensorFlow starts (~10 s)
        options, synth = resolve_options(args)
        check_scratch(scratch_path(args.out), args.resume)
        models = model_names(options["models"])
        if options["fine_tune_last_block"] and not set(models) & set(PRETRAINED_NAMES):
            raise ValueError("--fine-tune-last-block is for the pretrained kinds (--models pretrained, ...)")
        size = options["size"]
        if set(models) <= set(PRETRAINED_NAMES) and "size" not in _asked(args) and not args.resume:
            size = PRETRAINED_SIZE  # the encoder's measured size (docs/pretrained.md), unless one was asked
        settings = ClipSettings(frames=options["frames"], height=size, width=size, sampling=options["sampling"])
        augment = AugmentConfig.parse(
            options["augment"], crop_min=options["crop_min"], jitter_factor=options["jitter_factor"]
        )
        prepare_data(args.data, synth, args.config, args.workers)
        if options["strategy"] != "none":  # each engine on its own backend, refused in one sentence on another
            tensorflow_only(f"--strategy {options['strategy']} (tf.distribute)")
        distribution.use_distribution(options["distribution"], options["batch_size"])
    except (OutputRefused, ValueError, BackendError, distribution.DistributionError) as exc:
        # RecipeError and the settings' own checks are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"Interrupted before training started; nothing was written ({args.out} is unchanged).", file=sys.stderr)
        return EXIT_INTERRUPTED
    config = TrainConfig(
        models=models,
        epochs=options["epochs"],
        batch_size=options["batch_size"],
        patience=options["patience"],
        learning_rate=options["learning_rate"],
        optimizer=options["optimizer"],
        lr_schedule=options["lr_schedule"],
        split=options["split"],
        test_fraction=options["test_fraction"],
        val_fraction=options["val_fraction"],
        seed=options["seed"],
        augment=augment.to_dict() if augment.any else {},
        augment_ablation=bool(options["augment_ablation"]),
        strategy=options["strategy"],
        motion=options["motion"],
        fine_tune_last_block=bool(options["fine_tune_last_block"]),
        init_from="" if options["init_from"] == "none" else options["init_from"],
        extra={"recipe": args.config.name} if args.config else {},
    )
    try:
        config, line = choose_preset_for(config, args, options["preset"], _asked(args), options["classes"], settings)
        print(line)
        options["preset"] = config.extra.get("preset", NONE)  # what --resume uses
        if config.init_from:
            check_source(config.init_from, config.models, settings)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        configure_cpu_devices(args.cpu_devices)
        strategy = make_strategy(options["strategy"])  # before TensorFlow runs anything (multiworker insists)
        check_clip_shape(models, settings)
        train_bundle(
            args.data,
            args.out,
            config,
            parse_classes(options["classes"]),
            settings,
            args.cache_dir,
            args.workers,
            strategy,
            overwrite=args.overwrite,
            resume=args.resume,
            options=options,
        )
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"Interrupted before training started; nothing was written ({args.out} is unchanged).", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OutputRefused, DatasetError, RecipeError, SettingsError, WarmStartError, sharding.ProcessesDisagree) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        sharding.exit_after_lost_peer(exc, args.out)  # several processes: one sentence, then exit
        raise
    return 0
