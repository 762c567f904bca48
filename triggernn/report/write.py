"""A run's report: report.md and report.html with the plots, and metrics.json with every number."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from ..records import write_json
from .tables import html_table, md_table

__all__ = ["write_report"]


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        if math.isinf(x):
            return "inf"
        return f"{x:.4f}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


def _summary_rows(v: dict[str, Any]) -> list[tuple[str, str]]:
    ref = "QKeras" if v.get("reference", "qkeras") == "qkeras" else "Keras"
    rows = [
        ("Test events", _fmt(v["n_events"])),
        (
            f"Bit-exact events ({ref} vs C sim, `{v['compared_layer']}`, {v['compared_type']})",
            f"{v['bit_exact_fraction']:.4%}",
        ),
        ("Bit-exact values", f"{v['value_exact_fraction']:.4%}"),
        ("Largest difference [LSB]", _fmt(v["max_lsb_error"])),
        ("Largest difference (absolute)", f"{v['max_abs_error']:.3g}"),
    ]
    if v.get("logit_argmax_agreement") is not None:
        rows += [
            ("Argmax agreement on logits", f"{v['logit_argmax_agreement']:.4%}"),
            ("Logit argmax flips on near-ties (margin < 2x largest difference)", str(v["near_tie_flips"])),
            ("Argmax agreement on outputs", f"{v['output_argmax_agreement']:.4%}"),
        ]
    else:
        rows.append(("Outputs per event (compared value by value; no argmax)", str(v.get("n_outputs", "?"))))
    rows += [("Warning", w) for w in v.get("warnings", [])]
    rows += [
        ("Largest output difference", f"{v['max_output_diff']:.3g}"),
        (
            f"Project testbench (g++) = C sim, first {v['testbench_events']} events",
            "not run" if v["testbench_exact_fraction"] is None else f"{v['testbench_exact_fraction']:.4%}",
        ),
        ("Verdict", "PASS" if v["passed"] else "FAIL: " + "; ".join(v["failures"])),
    ]
    return rows


def _metric_rows(v: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    m = v["metrics"]
    ref = v.get("reference", "qkeras")
    if ref not in m:
        return ["Model"], [["no class scores: the model's outputs are compared value by value"]]
    classes = list(m[ref]["auc"])
    header = [
        "Model",
        "Accuracy",
        *[f"AUC {c}" for c in classes],
        *[f"Rej@50% {c}" for c in ("t", "w") if c in classes],
    ]
    rows = []
    for model in ("float", ref, "csim"):
        if model not in m:
            continue
        r = m[model]
        rows.append(
            [
                model,
                _fmt(r["accuracy"]),
                *[_fmt(r["auc"][c]) for c in classes],
                *[_fmt(r["rejection_at_50"][c]) for c in ("t", "w") if c in classes],
            ]
        )
    return header, rows


def write_report(
    out_dir: Path,
    title: str,
    verification: dict[str, Any],
    extra: dict[str, Any],
    plots: dict[str, Path],
    layer_types: dict[str, dict[str, str]],
    tables: dict[str, tuple[list[str], list[list[str]]]] | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``metrics.json`` into ``out_dir``; returns their paths.

    ``tables``: further sections, ``{title: (header, rows)}``, placed after the verification."""
    tables = tables or {}
    out_dir = Path(out_dir)
    summary = _summary_rows(verification)
    header, rows = _metric_rows(verification)
    types = [
        [name, ", ".join(f"{k}: {t}" for k, t in sorted(ts.items()))] for name, ts in layer_types.items()
    ]
    info = [[k, _fmt(val)] for k, val in extra.items() if not isinstance(val, dict | list)]
    rheader = ["Layer", "Type", "Observed min", "Observed max", "Status"]
    rrows = [
        [r["layer"], r["type"], f"{r['observed_min']:.4g}", f"{r['observed_max']:.4g}",
         f"OVERFLOW: use {r['suggestion']}" if r["overflows"] else "fits"]
        for r in extra.get("layer_ranges", [])
    ]  # fmt: skip
    md = [
        f"# {title}",
        "",
        "## Verification",
        "",
        md_table(["Check", "Value"], [list(r) for r in summary]),
        "",
        "## Physics metrics (test set)",
        "",
        md_table(header, rows),
        "",
        *[part for t, (h, r) in tables.items() for part in (f"## {t}", "", md_table(h, r), "")],
        "## Run",
        "",
        md_table(["Item", "Value"], info),
        "",
    ]
    md += [f"![{name}]({p.name})\n" for name, p in plots.items()]
    md += ["## Layer ranges (train + test data) against firmware types", "", md_table(rheader, rrows), ""]
    md += ["## Firmware types (hls4ml)", "", md_table(["Layer", "Types"], types), ""]
    (out_dir / "report.md").write_text("\n".join(md))

    css = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}th{background:#eef}"
        ".pass{color:#070;font-weight:bold}.fail{color:#b00;font-weight:bold}img{max-width:48%;margin:4px}"
    )
    verdict = "pass" if verification["passed"] else "fail"
    page = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{css}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p class='{verdict}'>{verdict.upper()}</p>",
        "<h2>Verification</h2>",
        html_table(["Check", "Value"], [list(r) for r in summary]),
        "<h2>Physics metrics (test set)</h2>",
        html_table(header, rows),
        *[part for t, (h, r) in tables.items() for part in (f"<h2>{html.escape(t)}</h2>", html_table(h, r))],
        "<h2>Plots</h2>",
        *[f"<img src='{html.escape(p.name)}' alt='{html.escape(n)}'>" for n, p in plots.items()],
        "<h2>Layer ranges (train + test data) against firmware types</h2>",
        html_table(rheader, rrows),
        "<h2>Run</h2>",
        html_table(["Item", "Value"], info),
        "<h2>Firmware types (hls4ml)</h2>",
        html_table(["Layer", "Types"], types),
        "</body></html>",
    ]
    (out_dir / "report.html").write_text("\n".join(page))
    payload = {"title": title, "verification": verification, **extra, "layer_types": layer_types}
    write_json(out_dir / "metrics.json", payload)
    return {
        "markdown": out_dir / "report.md",
        "html": out_dir / "report.html",
        "json": out_dir / "metrics.json",
    }
