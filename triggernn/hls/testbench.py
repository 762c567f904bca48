"""Build and run an emitted project's own C++ testbench with g++: what Vivado/Vitis csim checks, without them.

The testbench (``myproject_test.cpp``) reads ``tb_data/tb_input_features.dat``, runs the firmware's top
function and writes ``tb_data/csim_results.log``. It is built and run in a scratch copy, so the project
folder is left exactly as emitted.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import HLSError

__all__ = ["run_testbench", "write_tb_data"]

log = logging.getLogger(__name__)


def write_tb_data(project_dir: Path, inputs, outputs: np.ndarray | None) -> None:
    """Write the testbench data with enough digits that every float32 reads back exactly (several inputs: each
    event's values of every input in turn, on one line, as hls4ml's testbench reads them).

    hls4ml writes fewer digits: an input such as 602/1024 = 0.587890625 is written '0.5878906', which the
    testbench reads back below the grid point and truncates to 601/1024, one LSB off.
    """
    from ..inputs import flat

    tb = Path(project_dir) / "tb_data"
    tb.mkdir(exist_ok=True)
    np.savetxt(tb / "tb_input_features.dat", flat(inputs).astype(np.float32), fmt="%.9g")
    if outputs is not None:
        np.savetxt(
            tb / "tb_output_predictions.dat",
            np.asarray(outputs, np.float32).reshape(len(outputs), -1),
            fmt="%.9g",
        )


def run_testbench(
    project_dir: str | Path, project_name: str = "myproject", *, timeout: float = 600
) -> np.ndarray:
    """Compile the project's testbench with g++, run it on its ``tb_data`` and return its outputs ``(n, n_out)``.

    Raises :class:`HLSError` with the compiler's or the program's message if either fails.
    """
    src = Path(project_dir)
    if not (src / "tb_data" / "tb_input_features.dat").is_file():
        raise HLSError(f"{src} has no tb_data/tb_input_features.dat: emit the project with testbench inputs")
    if shutil.which("g++") is None:
        raise HLSError("g++ is not on PATH: install it (e.g. apt-get install g++) to build the testbench")
    with tempfile.TemporaryDirectory(prefix="triggernn-tb-") as tmp:
        work = Path(tmp)
        shutil.copytree(src / "firmware", work / "firmware")
        shutil.copytree(src / "tb_data", work / "tb_data")
        # The testbench prints with the stream's default 6 significant digits, too few for wide types: the
        # scratch copy prints every digit (ap_fixed's operator<< rounds its exact decimal to the precision).
        test_cpp = (src / f"{project_name}_test.cpp").read_text()
        opened = "std::ofstream fout(RESULTS_LOG);"
        (work / f"{project_name}_test.cpp").write_text(
            test_cpp.replace(opened, opened + " fout.precision(60);")
        )
        (work / "tb_data" / "csim_results.log").unlink(missing_ok=True)
        cmd = [
            "g++", "-O1", "-std=c++14", "-Ifirmware", "-Ifirmware/ap_types", '-DWEIGHTS_DIR="firmware/weights"',
            f"{project_name}_test.cpp", f"firmware/{project_name}.cpp", "-o", "testbench",
        ]  # fmt: skip
        t0 = time.perf_counter()
        build = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout)
        if build.returncode:
            raise HLSError(f"the testbench of {src} does not compile:\n{build.stderr[-3000:]}")
        t1 = time.perf_counter()
        ran = subprocess.run(["./testbench"], cwd=work, capture_output=True, text=True, timeout=timeout)
        if ran.returncode:
            raise HLSError(
                f"the testbench of {src} failed (exit {ran.returncode}):\n{(ran.stdout + ran.stderr)[-3000:]}"
            )
        log.info("testbench: built in %.1f s, ran in %.1f s", t1 - t0, time.perf_counter() - t1)
        return _results(work / "tb_data")


def _results(tb: Path) -> np.ndarray:
    """The testbench's outputs, one row per event ``(n, n_out)``: it prints each of a model's outputs on a line
    of its own, so the lines of one event (as many as outputs) are joined, side by side."""
    lines = [line.split() for line in (tb / "csim_results.log").read_text().splitlines() if line.strip()]
    n = sum(1 for line in (tb / "tb_input_features.dat").read_text().splitlines() if line.strip())
    per_event = len(lines) // n if n and len(lines) % n == 0 else 1
    rows = [list(itertools.chain(*lines[i : i + per_event])) for i in range(0, len(lines), per_event)]
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1)
