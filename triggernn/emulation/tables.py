"""The lookup tables of hls4ml's activations (softmax exp and 1/x, sigmoid, tanh), read out of the firmware.

The tables are filled in C++ by ``nnet::init_*_table`` from single-precision ``std::exp``/``tanh`` and cast to
the table type; rebuilding them in numpy would differ from libm's last bit now and then, and one entry in a
thousand is enough to break bit-exactness. So a small program that includes the project's own
``parameters.h`` and calls the same initialisers, compiled with the flags of the project's ``build_lib.sh``,
prints every entry as a hexadecimal float. Results are cached by the content of the headers.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import HLSError
from ..hls.build_cache import cache_root, cflags

__all__ = ["TableRequest", "read_tables"]

#: The C++ that fills one table ``t`` of ``N`` entries, per kind; ``Cfg`` is the layer's config struct and
#: ``InT`` its input type, both typedef'd in the block that runs it.
_INIT = {
    "sigmoid": "Cfg::table_t t[Cfg::table_size]; nnet::init_sigmoid_table<Cfg, Cfg::table_size>(t); N = Cfg::table_size;",
    "tanh": "Cfg::table_t t[Cfg::table_size]; nnet::init_tanh_table<Cfg, Cfg::table_size>(t); N = Cfg::table_size;",
    "exp_stable": "Cfg::exp_table_t t[Cfg::exp_table_size]; nnet::init_exp_table<Cfg::inp_norm_t, Cfg>(t, true); N = Cfg::exp_table_size;",
    "exp_latency": "Cfg::exp_table_t t[Cfg::exp_table_size]; nnet::init_exp_table<InT, Cfg>(t); N = Cfg::exp_table_size;",
    "invert": "Cfg::inv_table_t t[Cfg::inv_table_size]; nnet::init_invert_table<Cfg::inv_inp_t, Cfg>(t); N = Cfg::inv_table_size;",
}  # fmt: skip

TableRequest = tuple[str, str, str, str]  # (layer name, kind in _INIT, config struct, input type)


def config_struct(project: Path, index: int) -> str:
    """Name of the ``nnet::activ_config`` struct of the layer with hls4ml ``index`` in the project's parameters.h."""
    text = (project / "firmware" / "parameters.h").read_text()
    m = re.search(rf"struct\s+(\w+_config{index})\s*:\s*nnet::activ_config\b", text)
    if not m:
        raise HLSError(f"no activation config for layer index {index} in {project}/firmware/parameters.h")
    return m.group(1)


def named_struct(project: Path, name: str) -> str:
    """``name`` if the project's parameters.h defines that config struct (e.g. ``sigmoid_config2_recr``)."""
    if not re.search(rf"struct\s+{name}\s*:", (project / "firmware" / "parameters.h").read_text()):
        from .layers import NotEmulated

        raise NotEmulated(f"no config struct {name} in {project}/firmware/parameters.h")
    return name


def read_tables(project: Path, requests: list[TableRequest], cache_dir: Path | None = None) -> dict:
    """``{(layer, kind): table values}`` exactly as the firmware in ``project`` fills them."""
    if not requests:
        return {}
    firmware = Path(project) / "firmware"
    lines = [
        "#include <cstdio>",
        '#include "defines.h"',
        '#include "parameters.h"',
        '#include "nnet_utils/nnet_activation.h"',
        "int main() {",
    ]
    for layer, kind, struct, in_type in requests:
        body = _INIT[kind.removeprefix("recr_").removeprefix("act_")]  # a GRU has one table of each
        lines += [
            "  {",
            f"    typedef {struct} Cfg; typedef {in_type} InT; unsigned N; {body}",
            f'    std::printf("@ {layer} {kind} %u\\n", N);',
            '    for (unsigned i = 0; i < N; i++) std::printf("%a\\n", t[i].to_double());',
            "  }",
        ]
    lines.append("  return 0;\n}\n")
    source = "\n".join(lines)
    headers = b"".join((firmware / f).read_bytes() for f in ("parameters.h", "defines.h"))
    key = hashlib.sha256(source.encode() + headers + " ".join(cflags()).encode()).hexdigest()[:20]
    cache_dir = Path(cache_dir or cache_root() / "tables")
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"{key}.txt"
    if not cached.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            src, exe = Path(tmp) / "tables.cpp", Path(tmp) / "tables"
            src.write_text(source)
            cmd = ["g++", *cflags(), f"-I{firmware}", f"-I{firmware / 'ap_types'}", str(src), "-o", str(exe)]
            built = subprocess.run(cmd, capture_output=True, text=True)
            if built.returncode != 0:
                raise HLSError(f"could not build the table reader for {project}: {built.stderr[-2000:]}")
            out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
        partial = cached.with_suffix(".partial")
        partial.write_text(out)
        partial.replace(cached)
    tables: dict = {}
    current = None
    for line in cached.read_text().splitlines():
        if line.startswith("@ "):
            _, layer, kind, _n = line.split()
            current = tables.setdefault((layer, kind), [])
        else:
            current.append(float.fromhex(line))
    return {k: np.asarray(v, dtype=np.float64) for k, v in tables.items()}
