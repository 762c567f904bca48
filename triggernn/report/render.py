"""Render a report in a real browser (headless Chromium) to a PNG, to check what a person would see."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import TriggerNNError

__all__ = ["find_chromium", "screenshot"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    """The path of a Chromium/Chrome executable ($TRIGGERNN_CHROMIUM first), or None."""
    env = os.environ.get("TRIGGERNN_CHROMIUM")
    if env:
        return env
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(
    html: str | os.PathLike, png: str | os.PathLike, *, width: int = 1200, height: int = 2600
) -> Path:
    """Render ``html`` (a local file) in headless Chromium and write a ``width`` x ``height`` PNG to ``png``."""
    exe = find_chromium()
    if exe is None:
        raise TriggerNNError(
            "no Chromium found for rendering reports: install Debian's 'chromium' package "
            "(`make test` does) or set TRIGGERNN_CHROMIUM to a Chrome/Chromium executable"
        )
    html, png = Path(html).absolute(), Path(png).absolute()
    if not html.is_file():
        raise TriggerNNError(f"report '{html}' does not exist: run `triggernn run CONFIG` first")
    with tempfile.TemporaryDirectory(prefix="triggernn-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            html.as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not png.is_file():
        raise TriggerNNError(
            f"Chromium could not render {html} (exit {proc.returncode}): {proc.stderr[-1500:]}"
        )
    return png
