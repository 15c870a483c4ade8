"""The model: declarative architecture configs, the network, and self-contained checkpoints."""

from inkread.model.config import PRESETS, ModelConfig, load_config
from inkread.model.network import CRNN

__all__ = ["CRNN", "PRESETS", "ModelConfig", "load_config"]
