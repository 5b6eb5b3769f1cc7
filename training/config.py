"""What decides a training run (TrainConfig, recorded in the manifest) and the checks made on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from har_demo.training.augment import AugmentConfig
from har_demo.training.options import DEFAULTS, LR_SCHEDULES, OPTIMIZERS, model_names


class SettingsError(ValueError):
    """Training settings that cannot work together (a clip shape, a batch size); said in a sentence."""


@dataclass
class TrainConfig:
    """Everything that decides a training run; recorded in the bundle's manifest.

    The defaults are the option table's (training/options.py), where each setting is explained.
    """

    models: tuple[str, ...] = model_names(DEFAULTS["models"])
    epochs: int = DEFAULTS["epochs"]
    batch_size: int = DEFAULTS["batch_size"]
    patience: int = DEFAULTS["patience"]
    learning_rate: float = DEFAULTS["learning_rate"]
    split: str = DEFAULTS["split"]
    test_fraction: float = DEFAULTS["test_fraction"]
    val_fraction: float = DEFAULTS["val_fraction"]
    seed: int = DEFAULTS["seed"]
    optimizer: str = DEFAULTS["optimizer"]
    lr_schedule: str = DEFAULTS["lr_schedule"]  # cosine: see make_optimizer
    loss: str = "categorical_crossentropy"
    augment: dict = field(default_factory=dict)  # AugmentConfig.to_dict(); empty = none
    augment_ablation: bool = DEFAULTS["augment_ablation"]
    strategy: str = DEFAULTS["strategy"]
    motion: str = DEFAULTS["motion"]  # "difference": clip.to_model_input gives frame differences
    fine_tune_last_block: bool = DEFAULTS["fine_tune_last_block"]  # the pretrained kinds' encoder: last block trains
    init_from: str = ""  # a bundle whose weights start the models (training/warm_start.py); "" = random
    extra: dict = field(default_factory=dict)

    @property
    def augmentation(self) -> AugmentConfig:
        return AugmentConfig.from_dict(self.augment)

    def make_optimizer(self, steps: int | None = None):
        """The Keras optimizer this config names, at its learning rate.

        With lr_schedule "cosine" the rate falls from `learning_rate` to 0 over the run's `steps`
        (its epochs x batches): with no validation split to pick a best epoch (tiny sets), the last
        weights are the ones kept, and a rate that has come down makes them settled ones.
        """
        import keras

        kinds = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}
        if self.optimizer not in kinds:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}")
        rate = self.learning_rate
        if self.lr_schedule == "cosine" and steps:
            rate = keras.optimizers.schedules.CosineDecay(self.learning_rate, decay_steps=int(steps))
        return kinds[self.optimizer](learning_rate=rate)


def seed_everything(seed: int) -> None:
    """Same seed, same machine -> the same run."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def check_clip_shape(models, settings=None) -> None:
    """Refuse, with a message, a frame count or size a model cannot be built for.

    LRCN pools each frame by 4, 4, 2 and 2, so it needs frames of at least 64x64.
    """
    from har_demo.clip import ClipSettings
    from har_demo.encoder import EncoderUnavailable
    from har_demo.models import build_model

    s = settings or ClipSettings()
    for name in models:
        try:
            build_model(name, 2, s.frames, s.height, s.width)
        except EncoderUnavailable as exc:  # the pretrained model's weights package is not installed
            raise SettingsError(str(exc)) from None
        except ValueError as exc:
            lines = [l.strip() for l in str(exc).splitlines() if l.strip()]
            reason = next((l for l in lines if "size would be" in l or "negative" in l), lines[0] if lines else "")
            reason = reason.replace("\x1b[1m", "").replace("\x1b[0m", "")[:300]
            raise SettingsError(
                f"{name} cannot be built for {s.frames} frames of {s.height}x{s.width}: {reason} "
                "(LRCN needs frames of at least 64x64)"
            ) from None
