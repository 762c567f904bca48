"""Write an hls4ml project and build its C simulation, atomically.

The project is written into a hidden sibling folder and moved into place only once it is complete and its
C simulation has run, so a crash never leaves a folder that looks like a finished project.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import HLSError, InputError
from ..inputs import Events, flat, n_events
from ..outputs import Staged, check_output_dir
from ..quantize import FixedSpec
from .adapter import check_version, describe_failure, fixes_applied, patch_firmware
from .adapter.view import is_binary
from .build_cache import compile_cached
from .config import logits_layer, make_hls_config
from .csim import CSimResult, check_model_inputs, run_csim
from .recurrent import check_recurrent, with_quantized_weights
from .testbench import write_tb_data

__all__ = ["SKIPPED_LAYERS", "HLSProject", "check_supported", "emit", "project_digest"]

log = logging.getLogger(__name__)

# Files whose bytes legitimately change from build to build: the shared library (named with hls4ml's random
# build stamp) and the Keras model hls4ml saves (its zip holds a save date). The stamp lines are masked.
_VOLATILE_SUFFIXES = (".so", ".keras", ".h5")
# hls4ml's stamp is the last 8 hex digits of a uuid4; YAML quotes it when it reads as a number ('12345678', '1234e567')
_STAMP_RE = re.compile(rb"(Stamp: |LIB_STAMP=)'?[0-9a-f]{8}'?")


@dataclass
class HLSProject:
    """An emitted, compiled hls4ml project.

    ``path`` is the project folder (firmware/, tb_data/, build_prj.tcl, ...), ``hls_model`` the live
    hls4ml ``ModelGraph`` whose compiled library backs :meth:`predict`.
    """

    path: Path
    hls_model: Any
    hls_config: dict[str, Any]
    logits_layer: str | None
    csim: CSimResult | None = None
    layer_types: dict[str, dict[str, str]] = field(default_factory=dict)

    staged: Staged | None = field(default=None, repr=False)

    @property
    def files(self) -> Path:
        """Where the project's files are now: ``path``, or its staging folder until that is moved into place."""
        return self.staged.path if self.staged is not None and not self.staged.committed else self.path

    def output_type(self, layer: str | None = None) -> FixedSpec:
        """The fixed-point type of ``layer``'s output in the firmware; without a layer, of the firmware's
        output (whatever node hls4ml's passes left last: a folded batch norm, a merged binary activation...).
        A binary output (hls4ml's XnorPrecisionType, 0 standing for -1) reads as ``int<2>`` once decoded
        with :meth:`decode_outputs`."""
        if layer is None:
            prec = self.hls_model.get_output_variables()[0].type.precision
        else:
            prec = self.hls_model.graph[layer].get_output_variable().type.precision
        if is_binary(prec):
            return FixedSpec(2, 2)  # the values -1/+1 that 0/1 stand for
        return FixedSpec(int(prec.width), int(getattr(prec, "integer", prec.width)), signed=bool(prec.signed))

    @property
    def output_node(self) -> str:
        """The name of the firmware's last node (hls4ml may have merged or renamed the model's last layer)."""
        out = self.hls_model.outputs[0]
        return next((n.name for n in self.hls_model.get_layers() if out in n.outputs), out)

    @property
    def binary_output(self) -> bool:
        return is_binary(self.hls_model.get_output_variables()[0].type.precision)

    def decode_outputs(self, raw: np.ndarray) -> np.ndarray:
        """The firmware's outputs as the model's values: a binary output's 0/1 as -1/+1, others unchanged."""
        raw = np.asarray(raw)
        return 2.0 * raw - 1.0 if self.binary_output else raw

    def predict(self, X: np.ndarray) -> CSimResult:
        """C-simulate ``X``; returns outputs (and logits for softmax models)."""
        return run_csim(self.hls_model, X, None)


#: Layers hls4ml 1.3.0's Keras 2 converter drops, since they do nothing at inference (``skip_layers``).
SKIPPED_LAYERS = ("Dropout",)


def check_supported(model) -> None:
    """Refuse, before hls4ml is called, a Keras model with a layer hls4ml 1.3.0 cannot convert."""
    from .adapter import supported_layers

    supported = supported_layers() | set(SKIPPED_LAYERS)
    for layer in model.layers:
        kind = layer.__class__.__name__
        if kind not in supported and f"{layer.__module__}.{kind}" not in supported:
            raise HLSError(
                f"layer '{layer.name}' of type {kind} cannot be converted by hls4ml 1.3.0: replace it with a "
                f"supported layer (e.g. {', '.join(sorted(k for k in supported if k.startswith('Q'))[:8])}, "
                "Dense, Conv2D, Activation, ...) or remove it before compiling"
            )
        if layer.name == "input":
            raise HLSError("a layer is named 'input', a name hls4ml reserves: rename it (e.g. 'features')")
        act = getattr(layer, "activation", None)
        if act.__class__.__name__ == "quantized_relu" and getattr(act, "use_sigmoid", False):
            raise HLSError(
                f"layer '{layer.name}' has quantized_relu(..., use_sigmoid=1), a sigmoid-shaped approximation that "
                "hls4ml 1.3.0 converts as a plain ReLU (measured: 36% of events bit-exact): use use_sigmoid=0"
            )
    check_recurrent(model)


def _layer_types(hls_model) -> dict[str, dict[str, str]]:
    out = {}
    for layer in hls_model.get_layers():
        out[layer.name] = {k: str(v.precision) for k, v in layer.get_layer_precision().items()}
    return out


def _replace_in_text_files(root: Path, old: str, new: str) -> None:
    for p in root.rglob("*"):
        if p.is_file() and p.suffix not in _VOLATILE_SUFFIXES and p.stat().st_size < 4_000_000:
            try:
                text = p.read_text()
            except UnicodeDecodeError:
                continue
            if old in text:
                p.write_text(text.replace(old, new))


def _warn_changed_reuse(hls_model, asked: int) -> None:
    """hls4ml moves a reuse factor that does not divide a layer's multiplications to a valid one and says so
    only at DEBUG: what the user asked for changed, so say it at WARNING."""
    for node in hls_model.get_layers():
        used = node.get_attr("reuse_factor")
        if "weight" in node.weights and used is not None and int(used) != asked:
            log.warning(
                "layer '%s': hls4ml uses reuse factor %d, not the %d asked for (it must divide the layer's "
                "multiplications); set hls.reuse_factor to %d to silence this",
                node.name, int(used), asked, int(used),
            )  # fmt: skip


def _write_config_yml(proj: Path, config: dict, tb: dict, final: Path) -> None:
    """hls4ml_config.yml as hls4ml writes it, naming the final paths. Written here rather than patched as text:
    YAML escapes a non-ASCII path (``ü`` as ``\\xFC``, folded lines), which a text replacement would miss."""
    import yaml
    from tensorflow import keras

    class Dumper(yaml.Dumper):
        pass

    def keras_model(dumper, _model):
        return dumper.represent_scalar("!keras_model", str(final / "keras_model.keras"))

    Dumper.add_multi_representer(keras.models.Model, keras_model)
    conf = dict(config)
    if "input_data_tb" in tb:
        conf["InputData"] = str(final / "tb_data" / "tb_input_features.dat")
    if "output_data_tb" in tb:
        conf["OutputPredictions"] = str(final / "tb_data" / "tb_output_predictions.dat")
    with open(proj / "hls4ml_config.yml", "w", encoding="utf-8") as f:
        yaml.dump(conf, f, Dumper=Dumper, allow_unicode=True)


#: Largest C-simulated input set recorded in the project (``tb_data/test_inputs.npy``) for ``triggernn rtl``.
MAX_RECORDED_INPUT_BYTES = 32 << 20
#: The converted model, saved in the project (see :func:`triggernn.hls.link.read_graph`).
GRAPH_MODEL = "triggernn_model.h5"


def emit(
    model,
    cfg,
    output_dir: str | os.PathLike,
    *,
    tb_inputs: Events | None = None,
    tb_outputs: np.ndarray | None = None,
    csim_inputs: Events | None = None,
    softmax_spread: float | None = None,
    force: bool = False,
    inputs: tuple = (),
    defer: list[Staged] | None = None,
) -> HLSProject:
    """Convert ``model`` (QKeras or Keras) with hls4ml, write the project to ``output_dir``, build its C simulation.

    ``tb_inputs``/``tb_outputs`` become the testbench data (``tb_data/``); ``csim_inputs`` are C-simulated
    before the project is moved into place (result in ``project.csim``). An existing project at
    ``output_dir`` is replaced only after the new one is complete, and only if triggernn wrote it (or
    ``force``; never the working directory or a folder holding one of ``inputs``: see
    :mod:`triggernn.outputs`). With ``defer`` (a list), the staged project is appended to it instead of being
    moved into place: the caller commits it together with the rest of its outputs.
    """
    from ..config import RunConfig
    from ..errors import ConfigError
    from ..validate import a_path, keras_model
    from .adapter import load_hls4ml
    from .adapter.simple_rnn import register as register_simple_rnn

    hls4ml = load_hls4ml()

    keras_model(model)
    if not isinstance(cfg, RunConfig):
        raise ConfigError(f"cfg must be a RunConfig (triggernn.load_config(...)), got {type(cfg).__name__}")
    output_dir = a_path(output_dir, "output_dir")
    check_supported(model)
    check_version()
    register_simple_rnn()
    if csim_inputs is not None:
        csim_inputs = check_model_inputs([x.shape[1:] for x in model.inputs], csim_inputs, "csim_inputs")
    if tb_inputs is not None:
        tb_inputs = check_model_inputs([x.shape[1:] for x in model.inputs], tb_inputs, "tb_inputs")
        if tb_outputs is not None and len(tb_outputs) != n_events(tb_inputs):
            raise InputError(
                f"tb_outputs has {len(tb_outputs)} events but tb_inputs {n_events(tb_inputs)}: pass the model's "
                "outputs for exactly the testbench inputs"
            )
    final = check_output_dir(output_dir, what="HLS project folder", force=force, inputs=inputs)
    model = with_quantized_weights(model)
    staged = Staged(final, what="HLS project folder")
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.tb-", dir=final.parent))
    try:
        hc = make_hls_config(model, cfg, softmax_spread=softmax_spread)
        tb = {}
        if tb_inputs is not None:
            np.save(work / "tb_in.npy", flat(tb_inputs).astype(np.float32))
            tb["input_data_tb"] = str(work / "tb_in.npy")
        if tb_outputs is not None:
            np.save(work / "tb_out.npy", np.asarray(tb_outputs, dtype=np.float32))
            tb["output_data_tb"] = str(work / "tb_out.npy")
        proj = staged.path
        h = cfg.hls
        # with a traced logits layer the C simulation runs the firmware with trace hooks: build only that one
        tracing = csim_inputs is not None and logits_layer(model) is not None
        with contextlib.redirect_stdout(io.StringIO()) as captured:
            try:
                with fixes_applied():
                    hls_model = hls4ml.converters.convert_from_keras_model(
                        model,
                        hls_config=hc,
                        output_dir=str(proj),
                        project_name=h.project_name,
                        backend=h.backend,
                        part=h.part,
                        clock_period=h.clock_period,
                        io_type=h.io_type,
                        **tb,
                    )
                hls_model.config.trace_output = tracing
                compile_cached(hls_model)
            except Exception as err:  # hls4ml raises bare Exceptions for conversion and g++ failures
                raise HLSError(
                    f"hls4ml could not convert or compile '{cfg.name}': {describe_failure(err)}. The converter said:\n"
                    + captured.getvalue()[-3000:]
                ) from err
        log.debug("hls4ml: %s", captured.getvalue())
        _warn_changed_reuse(hls_model, h.reuse_factor)
        if tb_inputs is not None:
            write_tb_data(proj, tb_inputs, tb_outputs)
        if csim_inputs is not None and flat(csim_inputs).nbytes <= MAX_RECORDED_INPUT_BYTES:
            # the whole C-simulated test set, for `triggernn rtl` to check the Verilog on the same events (several
            # inputs: side by side, as the testbench and the RTL's one port read them)
            (proj / "tb_data").mkdir(exist_ok=True)
            np.save(
                proj / "tb_data" / "test_inputs.npy",
                csim_inputs if len(hls_model.inputs) == 1 else flat(csim_inputs),
            )
        project = HLSProject(path=final, hls_model=hls_model, hls_config=hc, logits_layer=logits_layer(model),
                             staged=staged)  # fmt: skip
        if csim_inputs is not None:
            project.csim = run_csim(hls_model, csim_inputs, project.logits_layer)
        if (
            tracing
        ):  # the project on disk without the trace hooks (the library in memory keeps them: same outputs)
            hls_model.config.trace_output = False
            with contextlib.redirect_stdout(io.StringIO()):
                hls_model.write()
            patch_firmware(hls_model)
        # The C++ reads its weight files from absolute paths once, on its first call: make that call now,
        # while the files are still where this build points, so predict() keeps working after the move.
        with contextlib.redirect_stdout(io.StringIO()):
            zeros = [np.zeros((1, *v.shape), dtype=np.float32) for v in hls_model.get_input_variables()]
            hls_model.predict(zeros if len(zeros) > 1 else zeros[0])
        project.layer_types = _layer_types(hls_model)
        # the model hls4ml converted, in a form that loads again (hls4ml's keras_model.keras does not, for QKeras
        # activations): what `triggernn rtl` reads the layer graph back from
        with contextlib.redirect_stdout(io.StringIO()):
            model.save(proj / GRAPH_MODEL, save_format="h5")
        for so in (proj / "firmware").glob("*.so"):
            so.unlink()  # a build output named by a random stamp; build_lib.sh makes it again
        # the config hls4ml wrote names our temporary paths: point it at the files inside the final project
        _replace_in_text_files(
            proj, str(work / "tb_in.npy"), str(final / "tb_data" / "tb_input_features.dat")
        )
        _replace_in_text_files(
            proj, str(work / "tb_out.npy"), str(final / "tb_data" / "tb_output_predictions.dat")
        )
        _replace_in_text_files(proj, str(proj), str(final))
        hls_model.config.config["OutputDir"] = str(final)
        _write_config_yml(proj, hls_model.config.config, tb, final)
        # a later hls_model.write() (hls4ml's trace() rewrites the project) keeps the tb_data written here
        # instead of copying it again from the deleted staging files
        hls_model.config.config.pop("InputData", None)
        hls_model.config.config.pop("OutputPredictions", None)
        if defer is None:
            staged.commit()
        else:
            defer.append(staged)
        return project
    except BaseException:
        staged.discard()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def project_folder(path: str | os.PathLike) -> Path:
    """``path`` as an emitted project's folder (it holds ``hls4ml_config.yml``), or an :class:`InputError`."""
    from ..validate import a_path

    root = a_path(path, "the project")
    if not (root / "hls4ml_config.yml").is_file():
        raise InputError(
            f"'{root}' is not an hls4ml project folder (no hls4ml_config.yml in it): pass the folder `triggernn run` or "
            "`triggernn compile` wrote, e.g. hls_projects/jet_dense"
        )
    return root


def project_digest(path: str | os.PathLike) -> str:
    """SHA-256 of an emitted project's files (paths and bytes), build stamps masked, volatile files skipped.

    Two emissions of the same config and seed have the same digest, wherever the project folder is.
    """
    root = project_folder(path)
    own_path = str(root.absolute()).encode()  # hls4ml writes the project's absolute path into its config
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix in _VOLATILE_SUFFIXES or p.relative_to(root).parts[0] == "rtl":
            continue  # (rtl/: written later, by `triggernn rtl`)
        h.update(str(p.relative_to(root)).encode())
        h.update(_STAMP_RE.sub(rb"\1--------", p.read_bytes()).replace(own_path, b"<project>"))
    return h.hexdigest()
