"""YAML -> validated, frozen configuration objects.

Every user error in a config file is caught here, with a message naming the key, the value and what is
allowed. Inside the package only these typed objects travel, never raw dicts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config_io import format_validation_error, read_yaml, require_kind
from .errors import ConfigError
from .quantize import FixedSpec, parse_fixed, user_fixed

__all__ = [
    "DataConfig",
    "HLSConfig",
    "ModelConfig",
    "QuantConfig",
    "QuantSpec",
    "RunConfig",
    "TrainConfig",
    "VerifyConfig",
    "load_config",
    "write_config",
]


#: A random seed: what numpy, TensorFlow and scikit-learn all take (an unsigned 32-bit integer).
MAX_SEED = 2**32 - 1
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]


def _admits_bool(tp: Any) -> bool:
    return tp is bool or tp is Any or any(_admits_bool(a) for a in get_args(tp))


#: Every config section: unknown keys refused, frozen, and NaN or infinity refused where a number goes (pydantic
#: takes ``.nan`` for a float, and every range check is false for it).
STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Strict(BaseModel):
    model_config = STRICT

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: Any) -> Any:
        """``epochs: true`` is a typo, not 1: a YAML boolean is refused wherever a bool is not what is asked."""
        if isinstance(data, dict):
            for key, value in data.items():
                field = cls.model_fields.get(key)
                values = value if isinstance(value, list | tuple) else [value]
                bools = any(isinstance(v, bool) for v in values)
                if field is not None and bools and not _admits_bool(field.annotation):
                    raise ValueError(
                        f"'{key}' = {value!r}: a true/false value where a number or text is expected"
                    )
        return data

    def _changed(self, keys) -> list[str]:
        """Which of ``keys`` were given and differ from their default (a dumped and re-validated config
        carries every key, at its default where it does not apply)."""
        fields = type(self).model_fields
        return sorted(k for k in keys if k in self.model_fields_set and getattr(self, k) != fields[k].default)

    def with_fields(self, **fields: Any):
        """A copy with some top-level fields replaced, validated again like the file it came from (never
        ``model_copy(update=...)``, which skips validation); ``None`` values are left out."""
        data = {**self.model_dump(), **{k: v for k, v in fields.items() if v is not None}}
        try:
            return type(self).model_validate(data)
        except ValidationError as err:
            raise ConfigError(format_validation_error(err, "the command-line options")) from None


def check_name(v: str) -> str:
    """A run/project name: letters, digits, '_' or '-' (it names folders: no path, no dot)."""
    if not v or not all((c.isascii() and c.isalnum()) or c in "_-" for c in v):
        raise ValueError(f"name must be letters, digits, '_' or '-' (it names folders), got '{v}'")
    return v


class QuantSpec(_Strict):
    """Bits of a QKeras quantizer: ``bits`` in total, ``integer`` integer bits *without* the sign."""

    bits: int = Field(ge=1, le=32)
    integer: int = Field(default=0, ge=0, le=31)

    @model_validator(mode="after")
    def _fits(self) -> QuantSpec:
        if self.integer >= self.bits:
            raise ValueError(f"integer bits ({self.integer}) must be fewer than total bits ({self.bits})")
        return self

    def weight_type(self) -> FixedSpec:
        """The HLS type of a ``quantized_bits(bits, integer)`` weight: ``ap_fixed<bits, integer+1>``."""
        return FixedSpec(self.bits, self.integer + 1)

    def relu_type(self) -> FixedSpec:
        """The HLS type of ``quantized_relu(bits, integer)``: ``ap_ufixed<bits, integer>``."""
        return FixedSpec(self.bits, self.integer, signed=False)


class LayerQuant(_Strict):
    """Per-layer overrides of the default quantization."""

    weight: QuantSpec | None = None
    bias: QuantSpec | None = None
    activation: QuantSpec | None = None


class QuantConfig(_Strict):
    weight: QuantSpec = QuantSpec(bits=6, integer=0)
    bias: QuantSpec = QuantSpec(bits=6, integer=0)
    activation: QuantSpec = QuantSpec(bits=6, integer=0)
    input: str = "ap_fixed<16,6>"
    layers: dict[str, LayerQuant] = Field(default_factory=dict)

    @field_validator("input")
    @classmethod
    def _input_type(cls, v: str) -> str:
        spec = parse_fixed(v)
        if not 0 <= spec.integer <= spec.width:
            raise ValueError(
                f"input type {v} has {spec.integer} integer bits of {spec.width}: the integer bits (sign "
                "included) must be between 0 and the total width, e.g. ap_fixed<16,6>"
            )
        if spec.width - (1 if spec.signed else 0) > 24:
            raise ValueError(f"input type {v} has more significant bits than float32 inputs carry (24)")
        return v

    @property
    def input_type(self) -> FixedSpec:
        return parse_fixed(self.input)

    def for_layer(self, name: str, kind: Literal["weight", "bias", "activation"]) -> QuantSpec:
        """The quantizer bits of ``kind`` in layer ``name``: its override, else the default."""
        override = self.layers.get(name)
        value = getattr(override, kind) if override is not None else None
        return value if value is not None else getattr(self, kind)


class DataConfig(_Strict):
    """``source``: "embedded" (the shipped jets), the path of a jet file, or an image dataset: "mnist",
    "fashion_mnist", "sklearn_digits" (``path`` then optionally points at a full copy; see docs/lecture.md)."""

    source: str = "embedded"
    path: str | None = None
    max_events: int | None = Field(default=None, ge=50)
    representation: Literal["features", "images", "sequences"] = "features"
    max_jets: int | None = Field(default=None, ge=50)
    seed: Seed = 42
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    image_size: int = Field(default=16, ge=4, le=128)
    sequence_length: int = Field(default=20, ge=1, le=150)
    sequence_features: tuple[str, ...] = ("pt_rel", "deta", "dphi")

    @model_validator(mode="after")
    def _fields_of_the_source(self) -> DataConfig:
        """Keys that the source or representation does not read are refused (e.g. ``image_size`` for
        features), set to something other than their default."""
        from .data.digits import DIGIT_SOURCES

        digits = self.source in DIGIT_SOURCES
        applies = {
            "path": digits,
            "max_events": digits,
            "max_jets": not digits,
            "image_size": self.representation == "images",
            "sequence_length": self.representation == "sequences",
            "sequence_features": self.representation == "sequences",
        }
        wrong = self._changed(k for k, ok in applies.items() if not ok)
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} not read for source '{self.source}' with representation "
                f"'{self.representation}': remove {'it' if len(wrong) == 1 else 'them'}"
            )
        return self

    @field_validator("sequence_features")
    @classmethod
    def _sequence_features(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from .data.jets import SEQUENCE_FEATURES

        unknown = [f for f in v if f not in SEQUENCE_FEATURES]
        if not v or unknown:
            raise ValueError(f"unknown sequence features {unknown}: choose from {list(SEQUENCE_FEATURES)}")
        return v

    @field_validator("fractions")
    @classmethod
    def _fractions(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(f <= 0 for f in v) or abs(sum(v) - 1) > 1e-6:
            raise ValueError(f"train/validation/test fractions must be positive and sum to 1, got {list(v)}")
        return v


_DENSE_FIELDS = frozenset({"hidden", "activation", "l1", "dropout", "softmax"})
#: The keys each built-in family reads (jet_cnn and jet_gru: their own blocks plus the dense head).
FAMILY_FIELDS: dict[str, frozenset[str]] = {
    "jet_dense": _DENSE_FIELDS,
    "dense": _DENSE_FIELDS,
    "jet_cnn": _DENSE_FIELDS | {"filters", "kernel_size", "pool_size"},
    "cnn": _DENSE_FIELDS | {"filters", "kernel_size", "pool_size"},
    "jet_gru": _DENSE_FIELDS | {"units", "cell"},
    "jet_deepsets": _DENSE_FIELDS | {"units"},
}


#: The built-in families with recurrent layers (whose types hls.recurrent sets)
RECURRENT_FAMILIES = ("jet_gru",)

#: The data representation each built-in family reads (a family users register chooses its own).
FAMILY_REPRESENTATION: dict[str, str] = {
    "jet_dense": "features",
    "dense": "features",
    "jet_cnn": "images",
    "cnn": "images",
    "jet_gru": "sequences",
    "jet_deepsets": "sequences",
}


class ModelConfig(_Strict):
    """The network. ``hidden`` are the dense widths (the whole MLP of jet_dense, the head of jet_cnn/jet_gru);
    ``filters``/``kernel_size``/``pool_size`` shape jet_cnn's conv blocks; ``units``/``cell`` jet_gru's
    recurrent layer; ``units`` also jet_deepsets' per-particle layer."""

    family: str = "jet_dense"
    hidden: tuple[int, ...] = (64, 32, 32)
    activation: Literal["relu", "linear"] = "relu"
    l1: float = Field(default=1e-4, ge=0)
    dropout: float = Field(default=0.0, ge=0, lt=1)
    softmax: bool = True
    filters: tuple[int, ...] = (8, 8)
    kernel_size: int = Field(default=3, ge=1, le=11)
    pool_size: int = Field(default=2, ge=1, le=8)
    units: int = Field(default=16, ge=1, le=512)
    cell: Literal["gru"] = "gru"  # hls4ml 1.3.0 LSTM: no agreement or no compile (docs/recurrent.md)

    @model_validator(mode="after")
    def _fields_of_the_family(self) -> ModelConfig:
        """A key that the family does not use is a mistake (``units`` on a dense net), not a silent no-op."""
        allowed = FAMILY_FIELDS.get(self.family)
        if allowed is None:
            from .models.registry import _REGISTRY  # families users registered (the registry imports no TF)

            if self.family not in _REGISTRY:
                known = sorted(set(FAMILY_FIELDS) | set(_REGISTRY))
                raise ValueError(f"unknown model family '{self.family}': choose one of {', '.join(known)}")
            return self
        unused = self._changed(set(type(self).model_fields) - allowed - {"family"})
        if unused:
            raise ValueError(
                f"{', '.join(unused)} {'does' if len(unused) == 1 else 'do'} not apply to family '{self.family}' "
                f"(its keys: {', '.join(sorted(allowed))}): remove {'it' if len(unused) == 1 else 'them'}"
            )
        return self

    @field_validator("hidden")
    @classmethod
    def _hidden(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 1 or n > 4096 for n in v):
            raise ValueError(f"hidden layer widths must be 1..4096, got {list(v)}")
        return v

    @field_validator("filters")
    @classmethod
    def _filters(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(n < 1 or n > 256 for n in v):
            raise ValueError(f"conv filters must be 1..256 and at least one conv block, got {list(v)}")
        return v


class TrainConfig(_Strict):
    epochs: int = Field(default=30, ge=1, le=10_000)
    batch_size: int = Field(default=256, ge=1)
    learning_rate: float = Field(default=3e-3, gt=0, le=1)
    patience: int = Field(default=8, ge=1)
    seed: Seed = 0
    #: fraction of each Dense/Conv kernel pruned to zero while training (tensorflow-model-optimization's
    #: magnitude pruning, constant sparsity from the first step); zero weights cost no multiplier in hls4ml
    sparsity: float = Field(default=0.0, ge=0.0, le=0.95)


def _power_of_two_size(v: int) -> int:
    if v & (v - 1):
        raise ValueError(f"table_size must be a power of two (hls4ml indexes tables by bit slices), got {v}")
    return v


class SoftmaxConfig(_Strict):
    """Softmax tables. 16,384 entries gave 100% argmax agreement on the 6-bit jet tagger, 4,096 gave 99.9%."""

    table_size: int = Field(default=16384, ge=64, le=1 << 20)
    implementation: Literal["stable", "latency"] = "stable"

    _power_of_two = field_validator("table_size")(_power_of_two_size)


class RecurrentConfig(_Strict):
    """Types inside hls4ml's GRU (docs/recurrent.md). Defaults: >= 99.9% argmax agreement with QKeras on jet_gru;
    65,536-entry tables cut the largest logit error 4x at 4x the table memory."""

    table_size: int = Field(default=16384, ge=64, le=1 << 20)
    accum: str = "ap_fixed<32,12>"
    state: str = "ap_fixed<24,6>"
    table: str = "ap_fixed<18,2>"

    _power_of_two = field_validator("table_size")(_power_of_two_size)

    @field_validator("accum", "state", "table")
    @classmethod
    def _fixed(cls, v: str) -> str:
        user_fixed(v)
        return v


class HLSConfig(_Strict):
    backend: Literal["Vivado", "Vitis"] = "Vitis"
    part: str = "xcvu13p-flga2577-2-e"
    clock_period: float = Field(default=5.0, ge=1.0, le=1000)
    """ns; 1 ns (1 GHz) is beyond any FPGA fabric already: a shorter period is a unit slip (ps for ns)."""
    io_type: Literal["io_parallel", "io_stream"] = "io_parallel"
    strategy: Literal["Latency", "Resource"] = "Latency"
    reuse_factor: int = Field(default=1, ge=1, le=4096)
    output_dir: str | None = None
    project_name: str = "myproject"
    tb_events: int = Field(default=1000, ge=1)
    softmax: SoftmaxConfig = SoftmaxConfig()
    recurrent: RecurrentConfig = RecurrentConfig()
    activation_table_size: int | None = Field(default=None, ge=64, le=1 << 20)
    """Entries of the sigmoid/tanh tables of Activation layers (hls4ml's default: 1,024)."""
    precision: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("project_name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not v.isidentifier():
            raise ValueError(f"project_name must be a C identifier (letters, digits, _), got '{v}'")
        return v

    @field_validator("precision")
    @classmethod
    def _types(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for layer, entries in v.items():
            for key, text in entries.items():
                try:
                    user_fixed(text)
                except ValueError as err:
                    raise ValueError(f"precision of layer '{layer}', key '{key}': {err}") from None
        return v


class RTLConfig(_Strict):
    """The open-source RTL stage (``triggernn rtl``), run after the verification when ``enabled``."""

    enabled: bool = False
    latency_cutoff: float | None = Field(default=None, gt=0, le=1000)
    """ns of logic per pipeline stage in alkaid's delay model (default: hls.clock_period)."""
    synthesize: bool = True
    synth_timeout_s: float = Field(default=3600, gt=0)
    keep_softmax: bool = False
    """Trace the final softmax too (its tables, the sum, the products): compare probabilities, not logits."""
    synth_jobs: int | None = Field(default=None, ge=1)
    """Yosys processes at once, one pipeline stage each (default: the machine's cores)."""


class VerifyConfig(_Strict):
    """Pass/fail thresholds of the verification."""

    min_bit_exact: float = Field(default=1.0, ge=0, le=1)
    min_argmax_agreement: float = Field(default=0.999, ge=0, le=1)
    max_auc_drop: float = Field(default=0.05, ge=0, le=1)
    max_abs_error: float | None = Field(default=None, ge=0)
    """Largest allowed |QKeras - C-sim| on the compared (logit) layer; for models that cannot be bit-exact."""
    min_events: int = Field(default=50, ge=1)
    """Fewest test events a verdict stands on: a run with fewer is refused before training."""
    min_value_exact: float = Field(default=0.0, ge=0, le=1)
    """Smallest fraction of compared values that must be identical (for binary/ternary nets, whose folded
    thresholds hls4ml rounds to the input grid: a value flips rather than drifts)."""


class RunConfig(_Strict):
    name: str
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    quantization: QuantConfig = QuantConfig()
    train: TrainConfig = TrainConfig()
    hls: HLSConfig = HLSConfig()
    verify: VerifyConfig = VerifyConfig()
    rtl: RTLConfig = RTLConfig()

    _name = field_validator("name")(check_name)

    @model_validator(mode="after")
    def _sections_agree(self) -> RunConfig:
        """Rules across sections: the family reads the representation the data give, and the RTL's stages can
        meet the clock (logic per stage no longer than the period)."""
        wanted = FAMILY_REPRESENTATION.get(self.model.family)
        if wanted is not None and self.data.representation != wanted:
            raise ValueError(
                f"model family '{self.model.family}' reads data.representation '{wanted}', the config gives "
                f"'{self.data.representation}': set data.representation: {wanted} (or choose another family)"
            )
        family = self.model.family
        if (
            family in FAMILY_FIELDS
            and family not in RECURRENT_FAMILIES
            and self.hls.recurrent != RecurrentConfig()
        ):
            raise ValueError(
                f"hls.recurrent sets the types inside recurrent layers, and family '{family}' has none "
                f"(recurrent: {', '.join(RECURRENT_FAMILIES)}): remove hls.recurrent"
            )
        if family in FAMILY_FIELDS and not self.model.softmax:
            idle = [k for k, on in (("hls.softmax", self.hls.softmax != SoftmaxConfig()),
                                    ("rtl.keep_softmax", self.rtl.keep_softmax)) if on]  # fmt: skip
            if idle:
                raise ValueError(
                    f"{' and '.join(idle)} set the final softmax, and model.softmax is false (the model ends in its "
                    f"logits): remove {' and '.join(idle)}, or set model.softmax: true"
                )
        cutoff = self.rtl.latency_cutoff
        if cutoff is not None and cutoff > self.hls.clock_period:
            raise ValueError(
                f"rtl.latency_cutoff {cutoff:g} ns of logic per stage cannot run at hls.clock_period "
                f"{self.hls.clock_period:g} ns: set latency_cutoff at most the period (or leave it out)"
            )
        return self

    def project_dir(self, root: str | os.PathLike = "hls_projects") -> Path:
        return Path(self.hls.output_dir) if self.hls.output_dir else Path(root) / self.name

    def with_overrides(self, **sections: dict[str, Any]) -> RunConfig:
        """A copy with some fields of some sections replaced, validated again."""
        data = self.model_dump()
        for section, values in sections.items():
            if isinstance(data.get(section), dict) and not isinstance(values, dict):
                raise ConfigError(
                    f"override of '{section}' must be a mapping of its fields (e.g. train={{'epochs': 5}}), got "
                    f"{values!r:.40}"
                )
            if isinstance(data.get(section), dict):
                data[section] = {**data[section], **values}
            else:
                data[section] = values
        return _validate(data, source="overrides")


def _validate(data: Any, source: str) -> RunConfig:
    if data is None:
        raise ConfigError(
            f"{source} is empty: a run config needs at least 'name:' (see configs/jet_dense.yaml)"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping with at least 'name:', got {type(data).__name__}"
        )
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from None


def load_config(path: str | os.PathLike | dict[str, Any]) -> RunConfig:
    """Read and validate a YAML config (or an equivalent dict) into a frozen :class:`RunConfig`.

    Raises :class:`ConfigError` for a missing file, malformed YAML, an unknown key or a bad value.
    """
    if isinstance(path, dict):
        return _validate(path, source="<dict>")
    if isinstance(path, RunConfig):
        return path
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise ConfigError(f"a config is a YAML path or a mapping, got {type(path).__name__} {path!r:.40}")
    tree = read_yaml(path)
    require_kind(tree, path, "run")
    return _validate(tree, source=str(path))


def write_config(config: RunConfig | dict[str, Any], path: str | os.PathLike, *, comment: str = "") -> Path:
    """Write a run config as YAML (validated first; ``comment`` lines on top), atomically: a config that
    ``load_config`` reads back to the same :class:`RunConfig`. Only the keys that were set (given in the mapping,
    or in the file a config was loaded from) are written: the file reads like the hand-written one it came from."""
    cfg = load_config(config) if isinstance(config, dict) else config
    data = cfg.model_dump(mode="json", exclude_unset=True)
    text = "".join(f"# {line}\n" for line in comment.splitlines()) + yaml.safe_dump(data, sort_keys=False)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
