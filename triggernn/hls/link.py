"""Re-open a project already on disk (e.g. one handed to Vivado) and C-simulate it as it is."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import yaml

from ..errors import HLSError
from .build_cache import compile_cached
from .csim import CSimResult, run_csim

__all__ = ["ExistingProject", "link_project"]


class ExistingProject:
    """An emitted project's firmware, compiled from its own files (hls4ml's ``link_existing_project``)."""

    def __init__(self, path: Path, graph) -> None:
        self.path = path
        self._graph = graph

    def predict(self, X: np.ndarray) -> CSimResult:
        return run_csim(self._graph, X, None)


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
