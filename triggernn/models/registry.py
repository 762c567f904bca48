"""The registry of model families."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError

__all__ = ["available_models", "build_model", "register_model"]

_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a model builder under ``name``; a second builder of the same name is refused."""

    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(
            f"a model family's name is a Python identifier (it is what model.family says), got {name!r:.40}"
        )
    if name in _REGISTRY:
        raise ConfigError(
            f"model family '{name}' is already registered by {_REGISTRY[name].__module__}: choose another name"
        )

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(fn):
            raise ConfigError(f"register_model('{name}') decorates a model builder function, got {fn!r:.40}")
        if name in _REGISTRY:
            raise ConfigError(f"model family '{name}' is already registered by {_REGISTRY[name].__module__}")
        _REGISTRY[name] = fn
        return fn

    return wrap


def available_models() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def build_model(cfg, input_shape: tuple[int, ...], n_classes: int, *, quantized: bool):
    """Build the float (``quantized=False``) or QKeras model of ``cfg.model.family``.

    ``cfg`` is a :class:`triggernn.config.RunConfig`; returns an uncompiled ``keras.Model``.
    """
    from ..config import RunConfig
    from ..validate import number, shape_tuple

    if not isinstance(cfg, RunConfig):
        raise ConfigError(f"cfg must be a RunConfig (triggernn.load_config(...)), got {type(cfg).__name__}")
    input_shape = shape_tuple(input_shape, "input_shape")
    n_classes = int(number(n_classes, "n_classes", low=1, integer=True))
    family = cfg.model.family
    if family not in _REGISTRY:
        raise ConfigError(f"unknown model family '{family}': choose one of {', '.join(available_models())}")
    return _REGISTRY[family](cfg, input_shape=input_shape, n_classes=n_classes, quantized=quantized)
