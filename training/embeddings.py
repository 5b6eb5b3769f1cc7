"""Training the pretrained model fast: its encoder is frozen, so each clip's frame embeddings are
computed once, cached beside the frame cache, and every epoch fits only the head on them.

The cache is one float32 .npy per encoder input (frame size, scale, colour order, motion) in the
frame cache's folder: (clips, frames, 1280), written whole then renamed into place, so a run cut
short leaves no half file behind. Augmentation does not apply (the embeddings are fixed); a run
that asks for it says so.

With `--fine-tune-last-block` the encoder's last block and head convolution train too: what is
cached is then the feature maps the last block reads ((clips, frames, h, w, 192): at 128 px 4x4,
245 KB a clip), and every epoch runs the last block and the head on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from har_demo.training.config import SettingsError, TrainConfig
from har_demo.training.dataset import FrameCache

BATCH_CLIPS = 4  # clips per encoder call: 80 frames at 20 a clip


def embeddings_path(cache: FrameCache) -> Path:
    s = cache.settings
    return Path(cache.folder) / f"embeddings-lite0-{s.height}x{s.width}-{s.color_order}-{s.scale}-{s.motion}.npy"


def features_path(cache: FrameCache) -> Path:
    """Where the feature maps before the encoder's last block are cached (--fine-tune-last-block)."""
    return embeddings_path(cache).with_name(embeddings_path(cache).name.replace("embeddings-", "block-input-"))


def clip_embeddings(cache: FrameCache, model, log: Callable[..., None] = print) -> np.ndarray:
    """(clips, frames, 1280) for every clip of `cache`, from the cache file or computed (and written)."""
    from har_demo.pretrained import embedding_model

    return _cached(embeddings_path(cache), cache, embedding_model(model).predict_on_batch, "Frame embeddings", log)


def clip_block_inputs(cache: FrameCache, model, log: Callable[..., None] = print) -> np.ndarray:
    """(clips, frames, h, w, c): what the encoder's last block reads, for every clip (cached like embeddings)."""
    from har_demo.pretrained import block_input_model

    frames_model, lite_input = block_input_model(model), model.get_layer("lite_input")

    def encode(clips: np.ndarray) -> np.ndarray:
        x = np.asarray(lite_input(clips))
        maps = frames_model.predict_on_batch(x.reshape(-1, *x.shape[2:]))
        return maps.reshape(len(clips), x.shape[1], *maps.shape[1:])

    return _cached(features_path(cache), cache, encode, "Last-block inputs", log)


def _cached(path: Path, cache: FrameCache, encode, what: str, log: Callable[..., None]) -> np.ndarray:
    """`encode` (model-ready clips -> per-frame arrays) over every clip of `cache`, kept in `path`."""
    from har_demo.clip import to_model_input

    n, frames = len(cache.labels), cache.settings.frames
    if path.is_file():
        stored = np.load(path, mmap_mode="r")
        if stored.shape[:2] == (n, frames):
            log(f"{what} reused from {path.name}")
            return stored
    started = time.perf_counter()
    out = None
    for start in range(0, n, BATCH_CLIPS):
        rows = np.arange(start, min(start + BATCH_CLIPS, n))
        done = encode(to_model_input(cache.frames[rows], cache.settings))
        if out is None:
            out = np.empty((n, *done.shape[1:]), dtype=np.float32)
        out[rows] = done
    partial = path.with_name(path.name + ".partial.npy")
    np.save(partial, out)
    partial.replace(path)
    log(f"{what} of {n} clips in {time.perf_counter() - started:.1f} s -> {path.name}")
    return out


def train_head(
    name: str,
    cache: FrameCache,
    splits,
    config: TrainConfig,
    *,
    log: Callable[..., None] = print,
    callbacks: list | tuple = (),
):
    """Fit the pretrained model `name`'s head on cached embeddings; return (whole model, info) as train_one does."""
    import keras

    from har_demo.pretrained import HEADS, build_pretrained, fine_tune_model, head_model, unfreeze_last_block

    s = cache.settings
    if s.channels != 3:
        raise SettingsError("the pretrained model takes colour frames (channels 3), not grayscale")
    if s.motion != "none":
        log(
            f"{name}: note: the encoder sees frame differences (the bundle's motion {s.motion!r}); it learned on photos"
        )
    if config.augmentation.any:
        log(f"{name}: augmentation does not apply (the frozen encoder's embeddings are computed once per clip)")
    model = build_pretrained(
        len(cache.classes), s.frames, s.height, s.width, HEADS[name],
        scale=s.scale, color_order=s.color_order, name=name,
    )  # fmt: skip
    embedding_started = time.perf_counter()
    if config.fine_tune_last_block:  # the last block trains too: cache what it reads, fit it and the head
        embeddings = clip_block_inputs(cache, model, log)
        unfreeze_last_block(model)
        head, fitted = fine_tune_model(model), "the encoder's last block and the head"
    else:
        embeddings = clip_embeddings(cache, model, log)
        head, fitted = head_model(model), "head only"
    embedding_seconds = time.perf_counter() - embedding_started
    steps = config.epochs * -(-len(splits.train) // config.batch_size)
    head.compile(optimizer=config.make_optimizer(steps=steps), loss=config.loss, metrics=["accuracy"])
    labels = np.eye(len(cache.classes), dtype=np.float32)[cache.labels]
    has_val = len(splits.val) > 0
    stops = []
    if has_val and config.patience:
        stops = [keras.callbacks.EarlyStopping(patience=config.patience, restore_best_weights=True)]
    log(
        f"\nTraining {name} ({fitted}, on cached features): {len(splits.train)} train / {len(splits.val)} validation clips"
    )
    started = time.perf_counter()
    history = head.fit(
        np.asarray(embeddings[splits.train]),
        labels[splits.train],
        validation_data=(np.asarray(embeddings[splits.val]), labels[splits.val]) if has_val else None,
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=[*stops, *callbacks],
        verbose=2 if log is print else 0,
    )
    train_seconds = time.perf_counter() - started
    curves = {k: [float(v) for v in values] for k, values in history.history.items()}
    epochs_trained = len(curves.get("loss", []))
    best = stops[0].best_epoch + 1 if stops and stops[0].best_epoch is not None and has_val else epochs_trained
    return model, {
        "history": curves,
        "epochs_trained": epochs_trained,
        "best_epoch": int(best),
        "train_seconds": round(train_seconds, 3),
        "embedding_seconds": round(embedding_seconds, 3),
        "params": int(model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
    }
