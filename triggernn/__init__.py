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

import os

# TensorFlow's C++ logging drowns the progress output; users can still set their own level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .compiler import CompileResult
from .compiler import compile_model as compile
from .config import RunConfig, load_config
from .emulation import Emulator, emulate
from .errors import ConfigError, HLSError, TriggerNNError, VerificationError
from .hls import HLSProject, emit, project_digest, run_csim, run_testbench
from .models import available_models, build_model, register_model
from .pipeline import RunResult, run
from .quantize import FixedSpec, parse_fixed, quantize_model, to_fixed_grid
from .train import train_model
from .verify import VerificationResult, verify_outputs

__version__ = "0.1.0"

__all__ = [
    "CompileResult",
    "ConfigError",
    "Emulator",
    "FixedSpec",
    "HLSError",
    "HLSProject",
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
