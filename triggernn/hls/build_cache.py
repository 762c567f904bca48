"""C-simulation builds cached by content: an unchanged model is not compiled again.

hls4ml's ``compile()`` runs ``build_lib.sh`` (g++ on the whole firmware, ~5 s a model, minutes for large
ones) every time. Here the library is keyed by the SHA-256 of everything that goes into it: the firmware
sources and headers, the weight files, the bridge, the compiler flags and g++'s version. The cache entry
holds its own copy of the weights, which the C simulation reads at its first call, so a cached library does
not depend on the project folder it was first built for (projects are written to a temporary folder and
moved into place).

The cache lives in ``$TRIGGERNN_CACHE`` (default ``~/.cache/triggernn``) under ``csim/``; delete it whenever no
triggernn process is running (a loaded library reads its weights from there at its first call).
Entries are written to a temporary name and renamed, so concurrent builds never see a half-written library.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import HLSError
from .adapter import link_library, patch_firmware

__all__ = ["build_library", "cache_root", "compile_cached", "firmware_key"]

_BATCH = """
#include "{name}_bridge.cpp"
extern "C" void triggernn_batch(double *x, double *y, long n, long n_in, long n_out) {{
    for (long i = 0; i < n; i++) {name}_double(x + i * n_in, y + i * n_out);
}}
"""


def cache_root() -> Path:
    return Path(os.environ.get("TRIGGERNN_CACHE") or Path.home() / ".cache" / "triggernn")


@functools.cache
def cflags() -> tuple[str, ...]:
    """The flags of hls4ml's build_lib.sh: -O3 -fPIC, -std=c++23 where g++ has it, -fno-gnu-unique."""

    def accepts(flag: str) -> bool:
        probe = ["g++", "-Werror", "-fsyntax-only", flag, "-xc++", "-", "-o", os.devnull]
        return subprocess.run(probe, input="", capture_output=True, text=True).returncode == 0

    flags = ["-O3", "-fPIC", "-std=c++23" if accepts("-std=c++23") else "-std=c++11"]
    if accepts("-fno-gnu-unique"):
        flags.append("-fno-gnu-unique")
    return tuple(flags)


@functools.cache
def _compiler_version() -> str:
    return subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout


def firmware_key(project: Path, name: str) -> str:
    """SHA-256 of what the C simulation of ``project`` is built from."""
    h = hashlib.sha256(" ".join(cflags()).encode() + _compiler_version().encode() + name.encode())
    files = sorted(
        p for p in (project / "firmware").rglob("*") if p.is_file() and p.suffix in (".h", ".cpp", ".txt")
    )
    for p in [*files, project / f"{name}_bridge.cpp"]:
        if "ap_types" in p.parts:  # hls4ml's own headers: covered by its version
            continue
        h.update(str(p.relative_to(project)).encode() + b"\0" + p.read_bytes())
    from .adapter import load_hls4ml

    hls4ml = load_hls4ml()
    h.update(hls4ml.__version__.encode())
    return h.hexdigest()


def build_library(project: Path, name: str, kind: str = "csim", *, cache: Path | None = None) -> Path:
    """The shared library of ``project``'s firmware, from the cache or built into it.

    ``kind="csim"`` is hls4ml's bridge (what ``predict()`` calls), ``kind="batch"`` adds ``triggernn_batch``,
    a loop over events in C++ (see :mod:`triggernn.emulation.native`). ``cache`` overrides :func:`cache_root`.
    """
    project = Path(project).absolute()
    entry = Path(cache or cache_root()) / "csim" / firmware_key(project, name)
    # the batch entry point takes doubles since 2026-12-03 (exact to 53 bits): a new name, so an older cached
    # float32 library is never called with double pointers
    lib = entry / ("batch64.so" if kind == "batch" else f"{kind}.so")
    if lib.is_file():
        return lib
    entry.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    try:
        weights = entry / "weights"
        if not weights.is_dir():
            shutil.copytree(project / "firmware" / "weights", work / "weights")
        sources = [project / "firmware" / f"{name}.cpp", project / f"{name}_bridge.cpp"]
        if kind == "batch":
            (work / "batch.cpp").write_text(_BATCH.format(name=name))
            sources[1] = work / "batch.cpp"
        common = [
            *cflags(),
            f"-I{project}",
            f"-I{project / 'firmware'}",
            f"-I{project / 'firmware' / 'ap_types'}",
            f'-DWEIGHTS_DIR="{weights}"',
        ]
        objects = []
        for i, src in enumerate(sources):
            obj = work / f"{i}.o"
            _gcc([*common, "-c", str(src), "-o", str(obj)], project)
            objects.append(str(obj))
        _gcc(["-shared", *objects, "-o", str(work / f"{kind}.so")], project)
        entry.mkdir(exist_ok=True)
        if not weights.is_dir():
            with contextlib.suppress(OSError):  # another process put them there first: same content
                (work / "weights").rename(weights)
        (work / f"{kind}.so").replace(lib)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lib


def _gcc(args: list[str], project: Path) -> None:
    run = subprocess.run(["g++", *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise HLSError(f"g++ could not build the C simulation of {project}: {run.stderr[-3000:]}")


def compile_cached(hls_model, *, write: bool = True) -> None:
    """``hls_model.compile()`` with the library taken from the cache when the firmware is unchanged.

    ``write=False`` for a project re-opened from disk (hls4ml's ``FilesystemModelGraph``), compiled as it is."""
    if write:
        hls_model.write()
        patch_firmware(hls_model)
    project = Path(hls_model.config.get_output_dir())
    lib = build_library(project, hls_model.config.get_project_name())
    link_library(hls_model, str(lib))
