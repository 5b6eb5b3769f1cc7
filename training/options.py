"""The `train` options, declared once: name, type, choices, default and help.

The command line (`har-demo train --FLAG`), a recipe's [train] keys (configs/*.toml, spelled with
dashes) and TrainConfig's defaults are all made from this table, as ultralytics makes its CLI and
checks from one cfg/default.yaml. A default that belongs to another object (the clip's frames,
the augmentation's crop) is read from that object, so it still has one home.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from har_demo.clip import ClipSettings
from har_demo.names import ALL_MODEL_NAMES, MODEL_NAMES, PRETRAINED_NAMES
from har_demo.split_kinds import SPLIT_KINDS, SPLIT_NAMES
from har_demo.training.augment import AugmentConfig
from har_demo.training.distribution import DISTRIBUTIONS
from har_demo.training.presets import AUTO, PRESET_CHOICES, PRESETS

MODEL_CHOICES = ("both", *MODEL_NAMES, *PRETRAINED_NAMES, "all")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")
STRATEGIES = ("none", "one-device", "mirrored", "multiworker")
MOTIONS = ("none", "difference")


@dataclass(frozen=True)
class Option:
    name: str  # the argparse dest and the recipe key (`batch_size` is --batch-size and batch-size)
    kind: type
    default: Any
    help: str
    choices: tuple | None = None
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


_clip, _augment = ClipSettings(), AugmentConfig()

OPTIONS: tuple[Option, ...] = (
    Option(
        "models",
        str,
        "both",
        "both: the report's two; pretrained(_attention): the LRCN on a frozen ImageNet encoder with an LSTM "
        "(or attention) head, for datasets with many people a class (docs/pretrained.md); all: every kind",
        MODEL_CHOICES,
    ),
    Option(
        "preset",
        str,
        AUTO,
        "a named set of the options below, for those left alone (training/presets.py): "
        + "; ".join(f"{p.name}: {p.description}" for p in PRESETS.values())
        + f"; none; {AUTO}: the preset made for the dataset's size (tiny: at most "
        + f"{PRESETS['tiny'].max_clips_per_class} clips a class), unless a recipe or --split was given",
        PRESET_CHOICES,
    ),
    Option(
        "fine_tune_last_block",
        bool,
        False,
        "pretrained kinds: also train the encoder's last block and head convolution (batch norms stay frozen); "
        "the frozen encoder is the default (docs/pretrained.md measures both)",
    ),
    Option("epochs", int, 30, "at most this many epochs"),
    Option("batch_size", int, 4, "clips per training step"),
    Option("patience", int, 5, "early stopping: epochs without a better val_loss"),
    Option("learning_rate", float, 1e-3, "the optimizer's learning rate"),
    Option("optimizer", str, "adam", "the optimizer", OPTIMIZERS),
    Option("lr_schedule", str, "constant", "cosine: the learning rate falls to 0 over the run", LR_SCHEDULES),
    Option(
        "split",
        str,
        "random",
        "; ".join(f"{kind.name}: {kind.description}" for kind in SPLIT_KINDS.values()),
        SPLIT_NAMES,
    ),
    Option("test_fraction", float, 0.25, "held out for the test"),
    Option("val_fraction", float, 0.2, "of what is left for training, held out for validation"),
    Option("seed", int, 27, "the run's seed"),
    Option("augment", str, "none", "training-split augmentation: none, all, or a comma list of crop,flip,jitter,color"),
    Option("augment_ablation", bool, False, "also train each model without augmentation and report both"),
    Option("crop_min", float, _augment.crop_min, "smallest random crop side, a fraction"),
    Option("jitter_factor", int, _augment.jitter_factor, "temporal jitter reads factor*(frames-1)+1 frames per clip"),
    Option(
        "strategy",
        str,
        "none",
        "tf.distribute: mirrored = all GPUs (or --cpu-devices logical CPUs); multiworker = machines via TF_CONFIG",
        STRATEGIES,
    ),
    Option(
        "distribution",
        str,
        "none",
        "JAX backend: data-parallel = keras.distribution.DataParallel over every device (docs/distributed.md)",
        DISTRIBUTIONS,
    ),
    Option("motion", str, "none", "difference: the models see each frame minus the one before", MOTIONS),
    Option(
        "init_from",
        str,
        "none",
        "start the models from this bundle's weights, every layer but the output one: a folder, OWNER/NAME[@REV], "
        "or weights (the shipped bundle); none = random weights",
        metavar="BUNDLE",
    ),
    Option("classes", str, "report", '"report" (the four), "all", or a comma list'),
    Option("frames", int, _clip.frames, "frames per clip"),
    Option("size", int, _clip.height, "frame height and width"),
    Option("sampling", str, _clip.sampling, "which frames of a clip", ("tutorial", "uniform")),
)

BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}
DEFAULTS: dict[str, Any] = {option.name: option.default for option in OPTIONS}


def model_names(models: str) -> tuple[str, ...]:
    """The `models` option as model keys: "both" is the report's two, "all" every kind."""
    return {"both": MODEL_NAMES, "all": ALL_MODEL_NAMES}.get(models, (models,))


def add_option_arguments(parser) -> None:
    """Every option as a flag whose default is None, so a flag given overrides a recipe."""
    for option in OPTIONS:
        help_text = f"{option.help} (default {option.default})"
        if option.kind is bool:
            parser.add_argument(option.flag, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(
                option.flag,
                type=option.kind,
                default=None,
                choices=option.choices,
                metavar=option.metavar,
                help=help_text,
            )
