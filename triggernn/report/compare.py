"""Several runs side by side: ``triggernn compare runs/jet_dense runs/jet_cnn runs/jet_gru``.

Reads each run's ``metrics.json`` and writes ``comparison.md`` / ``comparison.html``: one row per model with
its verification (bit-exact fraction, argmax agreement, largest logit error) and the C-simulated physics
(accuracy, AUC per class, background rejection at 50% signal efficiency for top and W).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import TriggerNNError
from .tables import html_table, md_table

__all__ = ["compare_runs"]


def _load(run_dir: Path) -> dict:
    path = run_dir / "metrics.json"
    if not path.is_file():
        raise TriggerNNError(f"'{run_dir}' has no metrics.json: pass run folders written by `triggernn run`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise TriggerNNError(f"{path} is not valid JSON ({err}): run `triggernn run` for it again") from None


def compare_runs(run_dirs: list[str | os.PathLike], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``comparison.md`` and ``comparison.html`` for ``run_dirs`` into ``out_dir``; returns their paths."""
    from ..outputs import owned_folder

    seen: dict[Path, str] = {}
    for d in run_dirs:
        if Path(d).resolve() in seen:
            raise TriggerNNError(f"'{d}' is the run '{seen[Path(d).resolve()]}' again: pass each run once")
        seen[Path(d).resolve()] = str(d)
    runs = [(Path(d), _load(Path(d))) for d in run_dirs]
    if not runs:
        raise TriggerNNError("no runs to compare: pass one or more run folders, e.g. runs/jet_dense")
    out = owned_folder(out_dir, what="comparison folder", inputs=run_dirs, create=False)
    for run in runs:  # each run's metrics read alone first, so that a bad one is named
        try:
            _table([run])
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as err:
            raise TriggerNNError(
                f"{run[0] / 'metrics.json'} lacks what a comparison reads ({type(err).__name__}: {err}): run "
                "`triggernn run` for it again"
            ) from None
    header, rows = _table(runs)
    owned_folder(out, what="comparison folder", inputs=run_dirs)
    title = "triggernn: models side by side (C-simulated firmware on each run's test set)"
    return _write(out, title, header, rows)


def _table(runs: list[tuple[Path, dict]]) -> tuple[list[str], list[list[str]]]:
    classes = list(runs[0][1]["verification"]["metrics"]["csim"]["auc"])
    header = [
        "Model",
        "Family",
        "Verdict",
        "Bit-exact",
        "Argmax agreement",
        "Largest logit error",
        "Accuracy (C sim)",
        *[f"AUC {c}" for c in classes],
        *[f"Rej@50% {c}" for c in ("t", "w") if c in classes],
    ]
    rows = []
    for run_dir, m in runs:
        v = m["verification"]
        csim = v["metrics"]["csim"]
        rows.append(
            [
                run_dir.name,
                m.get("config", {}).get("model", {}).get("family", "?"),
                "PASS" if v["passed"] else "FAIL",
                f"{v['bit_exact_fraction']:.2%}",
                f"{v['output_argmax_agreement']:.2%}",
                "n/a" if v.get("max_abs_error") is None else f"{v['max_abs_error']:.3g}",
                f"{csim['accuracy']:.4f}",
                *[f"{csim['auc'].get(c, float('nan')):.3f}" for c in classes],
                *[f"{csim['rejection_at_50'].get(c, float('nan')):.1f}" for c in ("t", "w") if c in classes],
            ]
        )
    return header, rows


def _write(out: Path, title: str, header: list[str], rows: list[list[str]]) -> dict[str, Path]:
    (out / "comparison.md").write_text(f"# {title}\n\n{md_table(header, rows)}\n")
    (out / "comparison.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>triggernn comparison</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #bbb;"
        f"padding:4px 8px}}th{{background:#eef}}</style></head><body><h1>{title}</h1>"
        f"{html_table(header, rows)}</body></html>\n"
    )
    return {"markdown": out / "comparison.md", "html": out / "comparison.html"}
