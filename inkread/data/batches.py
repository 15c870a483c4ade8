"""Line images as network input: sized for a model, normalised, batched by width."""

from __future__ import annotations

import numpy as np
import torch

from inkread.data.images import fit_box, fit_height, ink, trim_rows
from inkread.model.config import LARGEST, ModelConfig

MIN_WIDTH = 8
READING_WIDTH = LARGEST["max_width"]  # 0.8 s for one such line on two CPU cores


def sized(line: np.ndarray, config: ModelConfig, reading: bool = False) -> np.ndarray:
    """A line (8-bit gray) at the model's height: its own width, or the fixed box of the seed.
    A stretch not yet chosen (None: a preset before training) is none. Training squeezes a
    line wider than max_width (mostly a broken, flat polygon); reading keeps a long line's
    width up to READING_WIDTH, as squeezed its letters are like none the network learnt:
    Hooker lines tiled 16 times read at 63 % CER squeezed, at 24 % (as alone) at their own
    width (bench/odd_lines.py)."""
    if config.trim:
        line = trim_rows(line)
    if config.width is not None:
        return fit_box(line, config.height, config.width)
    most = READING_WIDTH if reading else config.max_width
    return fit_height(line, config.height, most, config.stretch or 1.0)


def to_batch(images: list[np.ndarray], least: int = MIN_WIDTH) -> tuple[torch.Tensor, torch.Tensor]:
    """Sized 8-bit lines -> (batch, 1, height, max width) float tensor, zero (paper) padded
    to at least `least` columns (a model's width_reduction, which its pools floor to none
    below: a config pooling 16 columns to a step had ended in a traceback on a narrow line),
    and each line's true width for the CTC lengths."""
    widths = [im.shape[1] for im in images]
    wide = max(max(widths), least, MIN_WIDTH)
    batch = np.zeros((len(images), 1, images[0].shape[0], wide), dtype=np.float32)
    for i, im in enumerate(images):
        batch[i, 0, :, : im.shape[1]] = ink(im)
    return torch.from_numpy(batch), torch.tensor(widths, dtype=torch.long)


def by_width(
    widths: list[int], batch_size: int, generator: np.random.Generator | None = None
) -> list[list[int]]:
    """Batches of lines of similar width, so that little of each batch is padding.

    With a generator, batch membership and batch order vary from epoch to epoch.
    """
    keys = np.asarray(widths, dtype=np.float64)
    if generator is not None:
        keys = keys * generator.uniform(0.9, 1.1, len(keys))  # vary who shares a batch
    order = np.argsort(keys, kind="stable")
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if generator is not None:
        batches = [batches[i] for i in generator.permutation(len(batches))]
    return batches
