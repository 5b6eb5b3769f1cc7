"""Small images for people: a clip's sampled frames as one strip (gallery, reports, model card)."""

from __future__ import annotations

import numpy as np


def frame_strip(frames: np.ndarray, color_order: str = "bgr", columns: int = 10, gap: int = 2) -> np.ndarray:
    """(T, H, W, 3) uint8 frames -> one RGB image, `columns` frames per row, in sampling order."""
    frames = np.asarray(frames, dtype=np.uint8)
    if color_order == "bgr":
        frames = frames[..., ::-1]
    count, height, width, _ = frames.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    sheet = np.full((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3), 255, dtype=np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        y, x = r * (height + gap), c * (width + gap)
        sheet[y : y + height, x : x + width] = frame
    return sheet


def write_image(path, rgb: np.ndarray, jpeg_quality: int = 90) -> None:
    """Write an RGB image; the extension picks the format (OpenCV writes BGR, hence the flip).

    Frame strips are JPEG: video frames are noisy and a PNG of one is 5-8x larger.
    """
    import cv2

    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if str(path).lower().endswith((".jpg", ".jpeg")) else []
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]), params):
        raise OSError(f"could not write {path}")
