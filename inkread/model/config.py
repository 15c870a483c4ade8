"""Architectures as data: a preset is a ModelConfig, and every checkpoint stores its own.

Adding an architecture means adding an entry to PRESETS (or passing a JSON config file),
not writing a new class.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from inkread import __version__
from inkread.errors import InkreadError

WHOLE = ("height", "width", "rnn_hidden", "rnn_layers", "max_width")
REAL = ("negative_slope", "conv_dropout", "dropout", "stretch")
MAY_BE_NULL = ("width", "stretch")  # lines of any width; stretched as the lines need
FLAGS = ("trim", "pool_first", "straighten", "keras")
# Beyond these a network does not fit a machine's memory, or takes hours a line: a typo
# ("height": 4800) ends in one line, not an out-of-memory kill
LARGEST = {
    "height": 256,
    "width": 4096,
    "max_width": 20000,
    "rnn_hidden": 2048,
    "rnn_layers": 8,
    "kernels": 15,
    "filters": 2048,
}
# each size under its cap may still combine into a network no machine trains (kernel 15
# with 2048 filters is 0.9 billion weights); the line preset has 2 million
MOST_WEIGHTS = 200_000_000


@dataclass(frozen=True)
class ModelConfig:
    """Conv blocks (conv, BatchNorm, LeakyReLU, max-pool), a bidirectional RNN, a linear layer.

    pools are (height, width) factors; the product of the width factors is how many input
    columns make one CTC time step. width is None for variable-width lines.
    """

    height: int = 32
    width: int | None = 128
    kernels: tuple[int, ...] = (5, 5, 3, 3, 3)
    filters: tuple[int, ...] = (32, 64, 128, 128, 256)
    pools: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (2, 1), (2, 1), (2, 1))
    negative_slope: float = 0.3  # Keras' LeakyReLU default, as in the notebook
    conv_dropout: float = 0.0
    rnn: str = "gru"  # gru | lstm
    rnn_hidden: int = 256
    rnn_layers: int = 1
    dropout: float = 0.0  # before and between the RNN layers
    max_width: int = 2000  # wider lines are squeezed to this (variable width only)
    # widen lines by this at the model's height (variable width only); None in a preset: as
    # much as the training lines need (train.choose_stretch)
    stretch: float | None = 1.0
    trim: bool = False  # cut empty paper above and below the writing before scaling
    pool_first: bool = False  # max-pool before BatchNorm and LeakyReLU (cheaper; the seed: after)
    straighten: bool = False  # shift columns so that a line's baseline runs straight
    # Keras' layers as the notebook built them: conv biases (redundant before BatchNorm, so
    # the line preset has none) and BatchNorm's epsilon 1e-3. Not Keras' BatchNorm momentum
    # (0.99, PyTorch's 0.01): its running statistics lagged so far behind the weights that
    # short runs read much worse (BENCHMARKS.md, "The seed preset with Keras' layers")
    keras: bool = False

    def __post_init__(self) -> None:
        _check_kinds(self)
        if not len(self.kernels) == len(self.filters) == len(self.pools):
            raise InkreadError("config: kernels, filters and pools must have the same length")
        if not self.kernels:  # "max() arg is an empty sequence" had said nothing of why
            raise InkreadError("config: kernels, filters and pools need a conv block at least")
        if self.rnn not in ("gru", "lstm"):
            raise InkreadError(f"config: rnn must be 'gru' or 'lstm', not {self.rnn!r}")
        width = 1 if self.width is None else self.width
        counts = (self.height, self.rnn_hidden, self.rnn_layers, self.max_width, width)
        if min(counts + self.kernels + self.filters + sum(self.pools, ())) < 1:
            raise InkreadError(
                "config: sizes, counts, kernels, filters and pooling factors must be 1 or more"
            )
        if any(k % 2 == 0 for k in self.kernels):  # 'same' padding needs a middle
            raise InkreadError(f"config: kernels must be odd, not {list(self.kernels)}")
        if not 0 <= self.negative_slope <= 1:
            raise InkreadError(
                f"config: negative_slope must be from 0 to 1, not {self.negative_slope}"
            )
        if not (0 <= self.dropout < 1 and 0 <= self.conv_dropout < 1):
            raise InkreadError("config: dropout and conv_dropout must be at least 0 and below 1")
        if self.stretch is not None and not 0 < self.stretch <= 4:
            raise InkreadError(f"config: stretch must be above 0 and at most 4, not {self.stretch}")
        for name, most in LARGEST.items():
            value = getattr(self, name)
            if max(value if isinstance(value, tuple) else (value or 0,)) > most:
                raise InkreadError(f"config: {name} must be at most {most}, not {value}")
        if self.weights > MOST_WEIGHTS:
            raise InkreadError(
                f"config: a network of about {self.weights / 1e6:,.0f} million weights is "
                f"more than the {MOST_WEIGHTS / 1e6:,.0f} million allowed"
            )
        # the pools floor a width to no time step below their product: training had ended
        # in a traceback at its first step (max_width 3 had trained on 3 lines of 109)
        columns, name = (self.width, "width") if self.width else (self.max_width, "max_width")
        if columns < self.width_reduction:
            raise InkreadError(
                f"config: the pools take {self.width_reduction} columns to a time step, more "
                f"than the {columns} of {name}: no time step is left"
            )
        if self.height % self.height_reduction:
            raise InkreadError(
                f"config: height {self.height} is not divisible by the pooling "
                f"{self.height_reduction}"
            )

    @property
    def weights(self) -> int:
        """About how many weights the network has, without building it (which could fill
        memory): conv kernels and the RNN's, the output layer left out."""
        channels = (1, *self.filters)
        conv = sum(k * k * a * b for k, a, b in zip(self.kernels, channels, channels[1:]))
        h, gates = self.rnn_hidden, 3 if self.rnn == "gru" else 4
        features = self.filters[-1] * max(1, self.height // self.height_reduction)
        inputs = features + 2 * h * (self.rnn_layers - 1)
        return conv + 2 * gates * (inputs * h + (self.rnn_layers * (h * h + 2 * h)))

    @property
    def height_reduction(self) -> int:
        n = 1
        for ph, _ in self.pools:
            n *= ph
        return n

    @property
    def width_reduction(self) -> int:
        n = 1
        for _, pw in self.pools:
            n *= pw
        return n

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kernels"], d["filters"] = list(self.kernels), list(self.filters)
        d["pools"] = [list(p) for p in self.pools]
        return d

    @classmethod
    def saved(cls, d: dict, made_by: object) -> ModelConfig:
        """A stored model's config: one with settings this inkread does not know was saved
        by a newer one, which is what to say ("unknown model settings" did not)."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown and _release(made_by) > _release(__version__):
            raise InkreadError(
                f"saved by inkread {made_by}, whose networks have settings this inkread "
                f"{__version__} does not know ({', '.join(unknown)}): upgrade inkread to read it"
            )
        if unknown:  # an earlier version's (a setting since dropped), or not inkread's
            raise InkreadError(
                f"saved by inkread {made_by or '(unknown version)'} with network settings "
                f"this inkread {__version__} does not have ({', '.join(unknown)}): read it "
                "with that version, or train it anew"
            )
        return cls.from_dict(d)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise InkreadError(f"config: unknown model settings {sorted(unknown)}")
        d = dict(d)
        for key in ("kernels", "filters"):
            if key in d:
                d[key] = tuple(_whole(key, v) for v in _listed(key, d[key]))
        if "pools" in d:
            d["pools"] = tuple(
                tuple(_whole("pools", v) for v in _listed("pools", p))
                for p in _listed("pools", d["pools"])
            )
            if any(len(p) != 2 for p in d["pools"]):  # ValueError: not enough to unpack
                given = [list(p) for p in d["pools"]]
                raise InkreadError(f"config: pools must be pairs [height, width], not {given}")
        return cls(**d)

    def with_changes(self, **changes: object) -> ModelConfig:
        return replace(self, **changes)


def _release(version: object) -> tuple[int, ...]:
    """'0.12.1' as (0, 12, 1), to compare; what is no version, as the lowest."""
    found = re.match(r"\d+(?:\.\d+)*", str(version or ""))
    return tuple(int(x) for x in found.group().split(".")) if found else ()


def _check_kinds(config: ModelConfig) -> None:
    """Each setting of the kind the network takes: a JSON file may hold 2.5 for a count,
    "no" for a switch (which Python takes as true) or NaN."""
    for name in WHOLE:
        value = getattr(config, name)
        if (value is not None or name not in MAY_BE_NULL) and (
            isinstance(value, bool) or not isinstance(value, int)
        ):
            raise InkreadError(f"config: {name} must be a whole number, not {value!r}")
    for name in REAL:
        value = getattr(config, name)
        if (value is not None or name not in MAY_BE_NULL) and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise InkreadError(f"config: {name} must be a number, not {value!r}")
    for name in FLAGS:
        if not isinstance(getattr(config, name), bool):
            raise InkreadError(
                f"config: {name} must be true or false, not {getattr(config, name)!r}"
            )
    if not isinstance(config.rnn, str):
        raise InkreadError(f"config: rnn must be 'gru' or 'lstm', not {config.rnn!r}")


def _listed(name: str, value: object) -> list:
    if not isinstance(value, (list, tuple)):
        raise InkreadError(f"config: {name} must be a list, not {value!r}")
    return list(value)


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InkreadError(f"config: {name} must hold whole numbers, not {value!r}")
    return value


PRESETS: dict[str, ModelConfig] = {
    # The notebook's network: 32x128 word images, 32 time steps, one BiGRU of 256.
    "seed": ModelConfig(keras=True),
    # The same family for whole lines: height normalised, width kept, 4 columns a time step.
    # One RNN layer learns fastest per CPU minute; the LSTM trains 45 % more lines a second
    # than the GRU on CPU. Height 48 trains 40 % fewer lines a second than 32 but learns so
    # much more per line that it ends lower in 45 minutes, and further ahead when trained to
    # the end on a small collection (BENCHMARKS.md). Pooling before BatchNorm and LeakyReLU
    # normalises a quarter of the values in the first blocks: 6 % more lines a second.
    # Straightening lines along their baselines learns a little more per epoch but makes
    # lines wider: level at equal time on the CPU, so it stays off (BENCHMARKS.md).
    "line": ModelConfig(
        height=48,
        width=None,
        kernels=(3, 3, 3, 3, 3),
        filters=(32, 64, 96, 128, 160),
        pools=((2, 2), (2, 2), (2, 1), (2, 1), (1, 1)),
        negative_slope=0.01,
        conv_dropout=0.0,
        rnn="lstm",
        rnn_hidden=256,
        rnn_layers=1,
        dropout=0.1,
        pool_first=True,
        stretch=None,
    ),
}


def load_config(
    preset: str | None, path: str | Path | None = None
) -> tuple[ModelConfig, dict, str]:
    """A preset (`line` where none is named), optionally changed by a JSON file; the file's
    "train" object is returned apart, and the preset it was built on.

    A file may name its own base with "preset": {"preset": "line", "rnn": "lstm"}; one that
    names another than --preset is refused, not followed in silence (it trained a `seed`
    network, 32 pixels high, where --preset line was asked for).
    """
    overrides: dict = {}
    train: dict = {}
    if path is not None:
        path = Path(path)
        try:  # UTF-8, with a BOM or not, or UTF-16 with its BOM, as Notepad saves them
            raw = path.read_bytes()
            text = raw.decode(
                "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
            )
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else f"not UTF-8 text: {e.reason}"
            raise InkreadError(f"cannot read config ({why or e})", path) from None
        try:
            overrides = json.loads(text, object_pairs_hook=_once)
        except InkreadError as e:
            raise in_file(e, path) from None
        except (ValueError, RecursionError) as e:  # nested 100,000 deep, a number of 5,000 digits
            raise InkreadError(
                f"cannot read config ({e}): a config is JSON, as "
                '{"preset": "line", "rnn_hidden": 256, "train": {"epochs": 60}}',
                path,
            ) from None
        if not isinstance(overrides, dict):
            raise InkreadError("config must be a JSON object", path)
        named = overrides.pop("preset", preset or "line")
        if not isinstance(named, str):
            raise InkreadError(f"config: preset must be a name, not {named!r}", path)
        if preset is not None and named != preset:
            raise InkreadError(
                f"config: its preset {named!r} is not --preset {preset}: give one of them", path
            )
        preset = named
        train = overrides.pop("train", {})
        if not isinstance(train, dict):
            raise InkreadError(
                f'config: "train" must be an object of settings, not {train!r}', path
            )
    preset = preset or "line"
    if preset not in PRESETS:
        raise InkreadError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}", path)
    base = PRESETS[preset].to_dict()
    base.update(overrides)
    try:
        return ModelConfig.from_dict(base), train, preset
    except (TypeError, ValueError) as e:  # a setting of the wrong kind: "height": "tall"
        raise InkreadError(f"config: a setting has the wrong type ({e})", path) from None
    except InkreadError as e:
        raise in_file(e, path) from None


def _once(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are each given once: of two, the last had been kept unsaid."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise InkreadError(f"config: {key!r} is given twice")
        seen[key] = value
    return seen


def in_file(error: InkreadError, path: str | Path | None) -> InkreadError:
    """The error naming the config file it came from, so a user knows which file to mend."""
    return error if error.path or path is None else InkreadError(str(error), path)
