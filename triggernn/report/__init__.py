"""Reports: plots (plots.py) and a Markdown + HTML page with a JSON of every number (write.py)."""

from .plots import plot_confusion, plot_residuals, plot_roc
from .write import write_report

__all__ = ["plot_confusion", "plot_residuals", "plot_roc", "write_report"]
