"""triggernn: quantization-aware L1-trigger networks -> hls4ml firmware projects, verified bit for bit.

The public API, in pipeline order::

    cfg = triggernn.load_config("configs/jet_dense.yaml")
    result = triggernn.run(cfg)                 # everything, or step by step:
    model = triggernn.build_model(cfg, (16,), 5, quantized=True)
    triggernn.train_model(model, cfg.train, X_train, y_train, X_val, y_val)
    project = triggernn.emit(model, cfg, "hls_projects/mine", csim_inputs=X_test)

    # bring your own trained model: precision calibrated on data, emitted, verified, reported
    result = triggernn.compile("my_model.h5", X_calibration, labels=y, name="mine")
"""

from __future__ import annotations

import importlib
import inspect
import os

# TensorFlow's C++ logging drowns the progress output; users can still set their own level. Level 3: TF 2.14
# prints three spurious "Unable to register cuDNN/cuFFT/cuBLAS factory" errors at every import (and in every
# Dask worker) on machines without a GPU (tensorflow/tensorflow#62075); TF's real errors reach Python as
# exceptions, which triggernn reports.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The public API is imported on first use (PEP 562): ``import triggernn.reference.flow`` on a GPU machine needs
# numpy, PyTorch and zuko only, and ``triggernn --help`` does not load pydantic, uproot or hls4ml.
_API = {
    "CompileResult": "compiler",
    "compile": ("compiler", "compile_model"),
    "RunConfig": "config",
    "load_config": "config",
    "Emulator": "emulation",
    "emulate": "emulation",
    "ConfigError": "errors",
    "DataError": "errors",
    "HLSError": "errors",
    "InputError": "errors",
    "ModelError": "errors",
    "OutputError": "errors",
    "TriggerNNError": "errors",
    "VerificationError": "errors",
    "HLSProject": "hls",
    "emit": "hls",
    "ExistingProject": ("hls.link", "ExistingProject"),
    "open_project": ("hls.link", "open_project"),
    "OptimizeResult": "optimizer",
    "optimize": "optimizer",
    "project_digest": "hls",
    "run_csim": "hls",
    "run_testbench": "hls",
    "available_models": "models",
    "build_model": "models",
    "register_model": "models",
    "RTLResult": "hdl",
    "rtl": "hdl",
    "RunResult": "pipeline",
    "run": "pipeline",
    "FixedSpec": "quantize",
    "parse_fixed": "quantize",
    "quantize_model": "quantize",
    "to_fixed_grid": "quantize",
    "train_model": "train",
    "VerificationResult": "verify",
    "verify_outputs": "verify",
}


#: Submodules the README uses as ``tn.pipeline.prepare_data``: imported on first use like the API.
_SUBMODULES = (
    "compiler",
    "config",
    "data",
    "emulation",
    "hls",
    "models",
    "pipeline",
    "quantize",
    "scan",
    "verify",
)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _API:
        raise AttributeError(f"module 'triggernn' has no attribute {name!r}")
    module, attr = _API[name] if isinstance(_API[name], tuple) else (_API[name], name)
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    if inspect.isfunction(value):  # arguments bound and booleans checked: a bad call is a TriggerNNError
        from .validate import public_api

        value = public_api(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_SUBMODULES))


__version__ = "0.1.0"

__all__ = [
    "CompileResult",
    "ConfigError",
    "DataError",
    "Emulator",
    "ExistingProject",
    "FixedSpec",
    "HLSError",
    "HLSProject",
    "InputError",
    "ModelError",
    "OptimizeResult",
    "OutputError",
    "RunConfig",
    "RunResult",
    "TriggerNNError",
    "VerificationError",
    "VerificationResult",
    "__version__",
    "available_models",
    "build_model",
    "compile",
    "emit",
    "emulate",
    "load_config",
    "open_project",
    "optimize",
    "parse_fixed",
    "project_digest",
    "quantize_model",
    "register_model",
    "run",
    "run_csim",
    "run_testbench",
    "to_fixed_grid",
    "train_model",
    "verify_outputs",
]
