"""The introductory examples of the lecture "Introduction to deep learning and its applications to the LHC".

``triggernn lecture gates`` (or a path to a YAML config with ``example: gates``) runs one example; the
MNIST networks are ordinary run configs (``triggernn run configs/mnist_dense.yaml``). See docs/lecture.md.

==================  =====================================================================================
``gates``           OR/AND with one hand-set sigmoid neuron, XOR impossible for one neuron, XOR with a
                    hidden layer; all compiled, truth tables checked in C simulation
``gradients``       vanishing gradients: per-layer gradient norms of deep sigmoid vs ReLU / LeakyReLU nets
``approximation``   universal approximation: error against hidden width; deeper against wider
``rnn``             next-number prediction with s_t = f(U x_t + W s_{t-1}): SimpleRNN and GRU, compiled
==================  =====================================================================================
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config_io import format_validation_error, read_yaml, require_kind
from ..errors import ConfigError

__all__ = ["EXAMPLES", "load_example", "run_example"]

#: example name -> (module, config class, run function); each module also has summary(result) -> lines
EXAMPLES = {
    "gates": ("gates", "GatesConfig", "run_gates"),
    "gradients": ("gradients", "GradientsConfig", "run_gradients"),
    "approximation": ("approximation", "ApproximationConfig", "run_approximation"),
    "rnn": ("rnn", "RNNConfig", "run_rnn"),
}
SHIPPED = Path(__file__).parents[2] / "configs" / "lecture"


def _module(example: str):
    return importlib.import_module(f"{__name__}.{EXAMPLES[example][0]}")


def load_example(source: str | os.PathLike | dict[str, Any]):
    """An example's validated config from a name (``"gates"``: its defaults, or the shipped
    ``configs/lecture/gates.yaml``), a YAML path or a dict with an ``example`` key."""
    if isinstance(source, dict):
        data, where = source, "<dict>"
    elif str(source) in EXAMPLES:
        shipped = SHIPPED / f"{source}.yaml"
        data, where = (
            (read_yaml(shipped), str(shipped))
            if shipped.is_file()
            else (
                {"example": str(source)},
                str(source),
            )
        )
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(
                f"'{source}' is neither a lecture example ({', '.join(EXAMPLES)}) nor a YAML file"
            )
        data, where = read_yaml(path), str(path)
    if isinstance(data, dict) and "example" not in data:
        require_kind(data, where, "lecture")  # a run, scan or reference config: the verb it is for
    if not isinstance(data, dict) or data.get("example") not in EXAMPLES:
        raise ConfigError(f"{where}: needs 'example:' set to one of {', '.join(EXAMPLES)}")
    cls = getattr(_module(data["example"]), EXAMPLES[data["example"]][1])
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"the lecture config {where}")) from None


def run_example(cfg, out_root: str | os.PathLike = "runs/lecture", project_root="hls_projects/lecture"):
    """Run one example; returns ``(result, summary lines)``. Output in ``out_root/<name>/``."""
    from ..outputs import owned_folder
    from ..validate import writable_folder

    out = owned_folder(Path(out_root) / cfg.name, what="lecture output folder", create=False)
    writable_folder(
        project_root, "the lecture projects folder (--projects)"
    )  # its projects: checked as emitted
    owned_folder(out, what="lecture output folder")
    return _work(cfg, out, Path(project_root))


def _work(cfg, out: Path, project_root: Path):
    """The example itself, its folders checked: ``(result, summary lines)``."""
    module = _module(cfg.example)
    result = getattr(module, EXAMPLES[cfg.example][2])(cfg, out, project_root)
    return result, module.summary(result)
