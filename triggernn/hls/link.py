"""Re-open a project already on disk (e.g. one handed to Vivado) and C-simulate it as it is."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import numpy as np
import yaml

from ..errors import HLSError
from .build_cache import compile_cached
from .csim import CSimResult, run_csim

__all__ = ["ExistingProject", "link_project", "open_project"]


class ExistingProject:
    """An emitted project's firmware, compiled from its own files (hls4ml's ``link_existing_project``), or
    converted again from the model it records and checked to give the same firmware (:func:`open_project`:
    then the numpy emulator can walk its layer graph)."""

    def __init__(self, path: Path, graph) -> None:
        self.path = path
        self._graph = graph

    @property
    def name(self) -> str:
        return str(self._graph.config.get_project_name())

    @property
    def hls_model(self):
        """The compiled hls4ml graph of the project (a files-only graph where ``has_layer_graph`` is False)."""
        return self._graph

    @property
    def has_layer_graph(self) -> bool:
        """Whether the layers are known (the numpy emulator and the RTL tracer need them), not just the files."""
        return type(self._graph).__name__ != "FilesystemModelGraph"

    def __repr__(self) -> str:
        return f"ExistingProject('{self.path}', {self.input_shape} -> {self.output_shape})"

    def predict(self, X: np.ndarray) -> CSimResult:
        return run_csim(self._graph, X, None)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one event the firmware reads."""
        return tuple(int(d) for d in self._graph.get_input_variables()[0].shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self._graph.get_output_variables()[0].shape)


def open_project(path: str | os.PathLike) -> ExistingProject:
    """A project on disk, ready to C-simulate, emulate (``tn.emulate(project, X)``, numpy engine where its layers
    are covered) or trace to RTL: its recorded model converted again and checked to give the firmware on disk
    line for line; a project without that record (emitted elsewhere) is compiled from its files as they are.

    Raises :class:`HLSError` naming the problem: not a project, edited after it was emitted, does not compile.
    """
    from ..validate import a_path
    from .emit import GRAPH_MODEL

    folder = a_path(path, "the project")
    if not folder.is_dir():
        raise HLSError(
            f"the project '{folder}' {'is a file, not a folder' if folder.exists() else 'does not exist'}: pass "
            "the folder `triggernn run` or `triggernn compile` wrote, e.g. hls_projects/jet_dense"
        )
    if (folder / GRAPH_MODEL).is_file():
        return ExistingProject(folder.absolute(), read_graph(folder))
    return link_project(folder)


def link_project(path: str | os.PathLike) -> ExistingProject:
    """Compile the firmware in ``path`` as it is on disk and return it ready to C-simulate.

    Raises :class:`HLSError` if ``path`` is not an hls4ml project or its firmware does not compile.
    """
    from hls4ml.converters import link_existing_project

    path = Path(path).absolute()
    cfg_file = path / "hls4ml_config.yml"
    if not cfg_file.is_file():
        raise HLSError(
            f"'{path}' is not an hls4ml project (no hls4ml_config.yml): pass a folder that `triggernn run` "
            "or `scripts/emit_hls.py` wrote, e.g. hls_projects/jet_dense"
        )
    try:
        written_to = yaml.load(cfg_file.read_text(), Loader=_Loader).get("OutputDir")
    except yaml.YAMLError as err:
        raise HLSError(f"{cfg_file} is not valid YAML ({err}): emit the project again") from None
    if written_to and Path(written_to).absolute() != path:
        raise HLSError(
            f"'{path}' was written for {written_to} and its C++ reads its weights from there: emit it again "
            "in place, or move it back"
        )
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        try:
            graph = link_existing_project(str(path))
            compile_cached(graph, write=False)
        except Exception as err:  # hls4ml raises bare Exceptions for build failures
            raise HLSError(
                f"the firmware in '{path}' does not compile ({err}): {captured.getvalue()[-2000:]}"
            ) from err
    return ExistingProject(path, graph)


class _Loader(yaml.SafeLoader):
    """Reads hls4ml_config.yml, skipping the ``!keras_model`` tag hls4ml writes."""


_Loader.add_multi_constructor("!keras_model", lambda loader, suffix, node: None)


def read_graph(path: str | os.PathLike):
    """The hls4ml layer graph of the project in ``path``: its ``triggernn_model.h5`` converted again with its own
    ``hls4ml_config.yml`` (and triggernn's fixes) in a scratch folder, compiled there, and checked to give the
    very firmware on disk (``firmware/``, byte for byte). :class:`HLSError` where it does not."""
    import atexit
    import shutil
    import tempfile

    from ..models.io import load_model
    from .adapter import fixes_applied, load_hls4ml, patch_firmware
    from .adapter.simple_rnn import register as register_simple_rnn
    from .emit import GRAPH_MODEL

    hls4ml = load_hls4ml()

    path = Path(path).absolute()
    cfg_file, keras_file = path / "hls4ml_config.yml", path / GRAPH_MODEL
    if not path.is_dir():
        raise HLSError(
            f"the project '{path}' {'is a file, not a folder' if path.exists() else 'does not exist'}: pass the "
            "folder `triggernn run` or `triggernn compile` wrote, e.g. hls_projects/jet_dense"
        )
    if not cfg_file.is_file():
        raise HLSError(
            f"'{path}' is not an hls4ml project (no hls4ml_config.yml): pass a folder that `triggernn run` or "
            "`triggernn compile` wrote, e.g. hls_projects/jet_dense"
        )
    if not keras_file.is_file():
        raise HLSError(
            f"'{path}' holds no {GRAPH_MODEL} (the model it was converted from; triggernn writes it since "
            "0.1): emit the project again with `triggernn run` or `triggernn compile`"
        )
    try:
        cfg = yaml.load(cfg_file.read_text(), Loader=_Loader)
    except yaml.YAMLError as err:
        raise HLSError(f"{cfg_file} is not valid YAML ({err}): emit the project again") from None
    register_simple_rnn()
    model = load_model(keras_file)
    scratch = Path(tempfile.mkdtemp(prefix="triggernn-graph-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # the graph C-simulates from there till then
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        try:
            with fixes_applied():
                graph = hls4ml.converters.convert_from_keras_model(
                    model, hls_config=cfg["HLSConfig"], output_dir=str(scratch), project_name=cfg["ProjectName"],
                    backend=cfg["Backend"], part=cfg.get("Part"), clock_period=cfg.get("ClockPeriod", 5.0),
                    io_type=cfg.get("IOType", "io_parallel"),
                )  # fmt: skip
            graph.config.trace_output = any(
                layer.get("Trace") for layer in cfg["HLSConfig"].get("LayerName", {}).values()
            )
            compile_cached(graph)
            graph.config.trace_output = False
            graph.write()
            patch_firmware(graph)
        except Exception as err:  # hls4ml raises bare Exceptions
            raise HLSError(
                f"the project in '{path}' does not convert again ({err}): {captured.getvalue()[-2000:]}"
            ) from err
    changed = [
        str(p.relative_to(scratch))
        for p in sorted((scratch / "firmware").rglob("*"))
        if p.is_file() and p.suffix != ".so" and _differs(p, path / p.relative_to(scratch), scratch, path)
    ]
    missing = [c for c in changed if not (path / c).exists()]
    if missing:
        raise HLSError(
            f"the project in '{path}' lacks {', '.join(missing[:3])}{'...' if len(missing) > 3 else ''}: files were "
            "deleted from it; emit it again"
        )
    if changed:
        raise HLSError(
            f"the firmware in '{path}' is not what its triggernn_model.h5 and hls4ml_config.yml give "
            f"({', '.join(changed[:3])}{'...' if len(changed) > 3 else ''} differ): it was edited after it was "
            "emitted; emit it again"
        )
    return graph


#: hls4ml's trace hooks (``trace()`` writes them into the project; triggernn before 2026-12-02 left them there)
_TRACE_HOOK = re.compile(rb"#ifndef __SYNTHESIS__\n[ \t]*nnet::save_layer_output<[^\n]*\n#endif\n")


def _differs(new: Path, old: Path, new_root: Path, old_root: Path) -> bool:
    if not old.is_file():
        return True
    # the same lines (hls4ml's order of typedefs in defines.h follows its passes, not the graph), trace hooks
    # (outside synthesis) aside
    text = _TRACE_HOOK.sub(b"", new.read_bytes().replace(str(new_root).encode(), str(old_root).encode()))
    return sorted(text.splitlines()) != sorted(_TRACE_HOOK.sub(b"", old.read_bytes()).splitlines())
