"""What decides a training run (TrainConfig, recorded in the manifest) and the checks made on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from har_demo.training.augment import AugmentConfig

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")


class SettingsError(ValueError):
    """Training settings that cannot work together (a clip shape, a batch size); said in a sentence."""


@dataclass
class TrainConfig:
    """Everything that decides a training run; recorded in the bundle's manifest."""

    models: tuple[str, ...] = ("convlstm", "lrcn")
    epochs: int = 30
    batch_size: int = 4
    patience: int = 5
    learning_rate: float = 1e-3
    split: str = "random"
    test_fraction: float = 0.25
    val_fraction: float = 0.2
    seed: int = 27
    optimizer: str = "adam"  # adam | sgd | rmsprop, at `learning_rate`
    lr_schedule: str = "constant"  # constant | cosine: decays to 0 over the run (see make_optimizer)
    loss: str = "categorical_crossentropy"
    augment: dict = field(default_factory=dict)  # AugmentConfig.to_dict(); empty = none
    augment_ablation: bool = False  # also train without augmentation and report both
    strategy: str = "none"  # none | one-device | mirrored | multiworker (tf.distribute)
    motion: str = "none"  # "difference": models see frame differences (clip.to_model_input; tiny sets)
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
