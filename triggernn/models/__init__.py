"""Model families, registered by name.

A family is a function ``build(cfg, n_inputs_shape, n_classes, quantized) -> keras.Model``. The float and the
quantization-aware model of a family share layer names, so weights, reports and hls4ml layer configs line up.
"""

from __future__ import annotations

from .io import load_model
from .registry import available_models, build_model, register_model

# Explicit imports fill the registry (no import-time scanning).
from . import cnn, deepsets, dense, gru  # noqa: F401  isort: skip

__all__ = ["available_models", "build_model", "load_model", "register_model"]
