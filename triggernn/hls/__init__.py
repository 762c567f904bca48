"""hls4ml: our config -> hls4ml dict (config.py), write + build the project (emit.py), C simulation (csim.py)."""

from .config import make_hls_config, softmax_precisions
from .csim import CSimResult, run_csim
from .emit import HLSProject, check_supported, emit, project_digest
from .testbench import run_testbench, write_tb_data

__all__ = [
    "CSimResult",
    "HLSProject",
    "check_supported",
    "emit",
    "make_hls_config",
    "project_digest",
    "run_csim",
    "run_testbench",
    "softmax_precisions",
    "write_tb_data",
]
