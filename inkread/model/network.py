"""The recognizer network, built from a ModelConfig in one loop (SimpleHTR-style)."""

from __future__ import annotations

import torch
from torch import nn

from inkread.model.config import ModelConfig


class CRNN(nn.Module):
    """Conv blocks turn an image into a sequence of columns; a BiRNN reads it; a linear layer
    scores every character (and the CTC blank, class 0) at every time step."""

    def __init__(self, config: ModelConfig, num_classes: int) -> None:
        super().__init__()
        self.config = config
        blocks: list[nn.Module] = []
        channels = 1
        for kernel, filters, pool in zip(config.kernels, config.filters, config.pools):
            conv = nn.Conv2d(channels, filters, kernel, padding=kernel // 2, bias=config.keras)
            keras = {"eps": 1e-3} if config.keras else {}
            norm = [nn.BatchNorm2d(filters, **keras), nn.LeakyReLU(config.negative_slope)]
            pooling = [nn.MaxPool2d(tuple(pool))] if tuple(pool) != (1, 1) else []
            blocks += [conv, *pooling, *norm] if config.pool_first else [conv, *norm, *pooling]
            if config.conv_dropout:
                blocks.append(nn.Dropout2d(config.conv_dropout))
            channels = filters
        # channels-last is a third faster for these convolutions and poolings on CPU (oneDNN)
        self.cnn = nn.Sequential(*blocks).to(memory_format=torch.channels_last)
        features = channels * (config.height // config.height_reduction)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = BiRNN(config.rnn, features, config.rnn_hidden, config.rnn_layers, config.dropout)
        self.head = nn.Linear(2 * config.rnn_hidden, num_classes)

    def forward(self, images: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, 1, height, width) images -> (batch, time, classes) unnormalised scores.

        widths are the true widths of padded images; without them all columns count.
        """
        maps = self.features(images.contiguous(memory_format=torch.channels_last), widths)
        b, c, h, w = maps.shape
        columns = maps.permute(0, 3, 1, 2).reshape(b, w, c * h)
        if widths is None:
            lengths = torch.full((b,), w, dtype=torch.long, device=images.device)
        else:
            lengths = self.output_lengths(widths.to(images.device)).clamp(max=w)
        sequence = self.rnn(self.dropout(columns), lengths)
        return self.head(self.dropout(sequence))

    def features(self, images: torch.Tensor, widths: torch.Tensor | None) -> torch.Tensor:
        """The conv blocks' maps, each block's output cleared past the line's end again.

        Padding is paper (zeros), but a block's normalisation turns it into something else,
        which the next block's kernels then read at the line's right end: the same line read
        different text in different batches. Cleared, padding looks like the zeros a line
        read alone is padded with, in every batch, in training and in reading alike."""
        if widths is None:
            return self.cnn(images)
        widths = widths.to(images.device)
        x, reduction = images, 1
        for layer in self.cnn:
            x = layer(x)
            if isinstance(layer, nn.MaxPool2d):
                reduction *= layer.kernel_size[1]
            elif isinstance(layer, nn.LeakyReLU):  # a block's end
                line = torch.arange(x.shape[3], device=x.device) < (widths // reduction)[:, None]
                x = x * line[:, None, None, :].to(x.dtype)
        return x

    def widen(self, classes: int) -> None:
        """Grow the output layer for a larger alphabet, keeping the rows already trained."""
        old = self.head
        if old.out_features == classes:
            return
        new = nn.Linear(old.in_features, classes).to(old.weight.device)
        with torch.no_grad():
            new.weight[: old.out_features] = old.weight
            new.bias[: old.out_features] = old.bias
        self.head = new

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return time_steps(widths, self.config)


def time_steps(widths: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """Time steps each image yields: the max-pools floor the width by their product."""
    return torch.div(widths, config.width_reduction, rounding_mode="floor").clamp(min=1)


class BiRNN(nn.Module):
    """A stack of bidirectional GRU/LSTM layers whose outputs do not depend on padding.

    The backward direction reads each line reversed within its own length, so padding always
    trails the text for both directions and never reaches a real time step. This equals
    packed sequences, but keeps the fast padded kernels (packing halves CPU speed), and makes
    a line's result independent of the batch it is read in.
    """

    def __init__(self, kind: str, features: int, hidden: int, layers: int, dropout: float):
        super().__init__()
        rnn = nn.GRU if kind == "gru" else nn.LSTM
        sizes = [features] + [2 * hidden] * (layers - 1)
        self.forward_layers = nn.ModuleList(rnn(n, hidden, batch_first=True) for n in sizes)
        self.backward_layers = nn.ModuleList(rnn(n, hidden, batch_first=True) for n in sizes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        steps = torch.arange(x.shape[1], device=x.device)[None, :]
        last = (lengths[:, None] - 1).to(x.device)
        # position t of the reversed line reads position len-1-t; padding stays in place
        index = torch.where(steps <= last, last - steps, steps)[:, :, None]
        for n, (fw, bw) in enumerate(zip(self.forward_layers, self.backward_layers)):
            if n:
                x = self.dropout(x)
            ahead, _ = fw(x)
            back, _ = bw(x.gather(1, index.expand(-1, -1, x.shape[2])))
            back = back.gather(1, index.expand(-1, -1, back.shape[2]))
            x = torch.cat([ahead, back], dim=2)
        return x
