"""Folders triggernn owns: checked before anything is written, staged, and swapped into place whole.

Every folder triggernn writes (an HLS project, a run's report, a scan, a verification) carries a marker file,
``.triggernn``. An existing folder is replaced only when it holds that marker, or is empty; a user's folder,
a file, the working directory, one of its parents, the home folder, or a folder holding one of the inputs is
never replaced or deleted (``force`` allows replacing an unmarked folder of someone else's files, never the
others). New content is written into a hidden sibling folder and renamed into place when complete, so an
interrupted or failed write leaves the old folder as it was and no half-written one. The hidden folder of a
process that was killed (nothing could remove it then) is removed by the next write of the same folder, once
its marker shows it was staged on this machine by a process that no longer runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError

__all__ = [
    "MARKER",
    "Staged",
    "check_output_dir",
    "is_owned",
    "marker_text",
    "owned_folder",
    "owned_kind",
    "separate_folders",
    "staged_dir",
]

#: The file that marks a folder as written by triggernn.
MARKER = ".triggernn"


def is_owned(path: Path) -> bool:
    """Whether ``path`` is a folder triggernn wrote (it holds the marker)."""
    return (path / MARKER).is_file()


def marker_text(what: str, note: str) -> str:
    """A marker's text: that triggernn wrote the folder, as what (``kind: run folder``), and how it is written."""
    return f"written by triggernn; {note}\nkind: {what}\n"


def owned_kind(path: Path) -> str | None:
    """What triggernn wrote ``path`` as (its marker's ``kind:``), or None (not ours, or an older marker)."""
    try:
        found = re.search(r"^kind: (.+)$", (path / MARKER).read_text(errors="replace"), re.M)
    except OSError:
        return None
    return found.group(1).strip() if found else None


def _protected(path: Path) -> str | None:
    """Why ``path`` must never be replaced whatever the flags, or None."""
    here = Path.cwd().resolve()
    if path == here:
        return "it is the working directory"
    if path in here.parents:
        return "it contains the working directory"
    if path == Path.home().resolve() or path.parent == path:
        return "it is the home folder or the file-system root"
    return None


def check_output_dir(
    path: str | os.PathLike,
    *,
    what: str = "output folder",
    force: bool = False,
    inputs: Iterable[str | os.PathLike | None] = (),
    flag: str | None = "--out",
    force_flag: str | None = "--force",
) -> Path:
    """Refuse, before any work is done, an output folder whose replacement would lose a user's files.
    ``flag``: the option that chooses the folder, named in the fix; None where its place is fixed (the
    ``rtl/`` folder of a project): the fix is then to move the files. ``force_flag``: the option that writes
    there all the same, None for a verb that has none.

    Returns the absolute path. Raises :class:`OutputError` naming the problem and the fix when ``path`` is a
    file, the working directory or one of its parents, the home folder, a folder containing one of ``inputs``
    (or inside one), or a non-empty folder without triggernn's marker (unless ``force``).
    """
    from .validate import a_path, path_name, writable_folder

    final = path_name(a_path(path, f"the {what}"), what).absolute()
    resolved = final.resolve()
    if final.is_symlink():  # a link to a folder: the folder is written (and replaced), the link stays
        final = resolved
    reason = _protected(resolved)
    for inp in inputs:
        if inp is None or reason is not None:
            continue
        ip = Path(inp).resolve()
        if ip == resolved or resolved in ip.parents:
            reason = f"it holds the input '{inp}'"
        elif resolved != ip and ip in resolved.parents and ip.is_file():
            reason = f"it would be inside the input file '{inp}'"
    if reason is None and final.exists() and not final.is_dir():
        reason = "it is an existing file"
    blocking = next((p for p in final.parents if p.exists() and not p.is_dir()), None)
    if reason is None and blocking is not None:
        reason = f"'{blocking}' on its path is a file, not a folder"
    if reason is not None:
        fix = f"pass another path ({flag} PATH, e.g. a new folder name)" if flag else "move it out of the way"
        raise OutputError(f"will not write the {what} '{path}': {reason}; {fix}")
    kind = owned_kind(final) if final.is_dir() else None
    if kind is not None and kind != what and not force:  # a run's models are not an HLS project to replace
        fix = f"choose another path ({flag} PATH)" if flag else "move it out of the way"
        force_fix = f" or pass {force_flag} to replace it" if force_flag else ""
        raise OutputError(f"the {what} '{path}' is a {kind} triggernn wrote, not a {what}: {fix}{force_fix}")
    if final.is_dir() and not is_owned(final) and any(final.iterdir()) and not force:
        fix = f"choose another path ({flag} PATH)" if flag else "move your files out of it"
        force_fix = f" or pass {force_flag} to replace it" if force_flag else ""
        raise OutputError(
            f"the {what} '{path}' exists and holds files triggernn did not write: {fix}{force_fix}"
        )
    writable_folder(final, f"the {what}")  # read-only or not ours to write: before any work
    return final


def separate_folders(first: Path, second: Path, what: tuple[str, str], flags: tuple[str, str]) -> None:
    """Refuse two output folders of one verb that are the same folder or one inside the other (the second
    would replace, or be replaced with, the first)."""
    a, b = Path(first).absolute().resolve(), Path(second).absolute().resolve()
    if a == b or a in b.parents or b in a.parents:
        raise OutputError(
            f"the {what[0]} '{first}' and the {what[1]} '{second}' {'are one folder' if a == b else 'nest'}: each "
            f"replaces the other; give them separate places ({flags[0]} / {flags[1]})"
        )


def owned_folder(
    path: str | os.PathLike,
    *,
    what: str,
    inputs: Iterable[str | os.PathLike | None] = (),
    flag: str | None = "--out",
    force: bool = False,
    force_flag: str | None = None,
    create: bool = True,
) -> Path:
    """A folder a verb writes its files into in place (a scan's points, a report, a comparison): checked as
    :func:`check_output_dir` checks (never a user's non-empty folder, a file, the working directory, a folder
    of the inputs), then, with ``create``, made and marked as triggernn's, so the next run may write there
    again. ``create=False`` only checks (a plan). Returns the absolute path."""
    final = check_output_dir(path, what=what, force=force, inputs=inputs, flag=flag, force_flag=force_flag)
    if create:
        final.mkdir(parents=True, exist_ok=True)
        if not (final / MARKER).exists():
            (final / MARKER).write_text(marker_text(what, "its files are written in place by the next run"))
    return final


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale(final: Path) -> None:
    """Remove hidden staging folders of ``final`` left by killed triggernn processes on this machine: a
    ``.partial-`` folder by the pid and host in its marker, an ``.old-PID`` folder (the previous version,
    renamed while committing) by the pid in its name, and only while ``final`` exists (else it is the only
    copy)."""
    host = socket.gethostname()
    for p in final.parent.iterdir():
        if not p.name.startswith(f".{final.name}.") or not p.is_dir() or not is_owned(p):
            continue
        old = re.fullmatch(rf"\.{re.escape(final.name)}\.old-(\d+)", p.name)
        if old and final.exists():
            pid, where = int(old.group(1)), host
        elif p.name.startswith(f".{final.name}.partial-"):
            mark = re.search(r"^staged by pid (\d+) on (.+)$", (p / MARKER).read_text(errors="replace"), re.M)
            if mark is None:
                continue  # staged before pids were recorded: left alone
            pid, where = int(mark.group(1)), mark.group(2).strip()
        else:
            continue
        if where == host and pid != os.getpid() and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)


class Staged:
    """A hidden sibling folder that becomes ``final`` on :meth:`commit` (see :func:`staged_dir`)."""

    def __init__(self, final: Path, what: str = "output folder") -> None:
        self.final = final
        self._made = [p for p in reversed(final.parents) if not p.exists()]  # outermost first
        final.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale(final)
        self.path = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
        (self.path / MARKER).write_text(
            marker_text(what, "replaced whole by the next run")
            + f"staged by pid {os.getpid()} on {socket.gethostname()}\n"
        )
        self.committed = False
        #: other staged folders that belong with this one: moved into place just before it, or discarded
        self.children: list[Staged] = []

    def commit(self) -> Path:
        """Move the staged folder (its children first) into place, replacing earlier folders triggernn
        wrote there."""
        for child in self.children:
            if not child.committed:
                child.commit()
        old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
        if self.final.exists():
            self.final.rename(old)
        self.path.rename(self.final)
        self.committed = True
        shutil.rmtree(old, ignore_errors=True)
        return self.final

    def discard(self) -> None:
        """Remove the staged folder and its uncommitted children, and the parents made for them if they
        are still empty."""
        for child in self.children:
            child.discard()
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)
            for parent in reversed(self._made):
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only if empty


@contextlib.contextmanager
def staged_dir(final: str | os.PathLike, *, commit: bool = True, **check) -> Iterator[Staged]:
    """Stage the folder ``final``: checked with :func:`check_output_dir` (keyword arguments ``check``), written
    inside ``staged.path``, moved into place when the block ends without an exception (unless ``commit`` is
    False: then call ``staged.commit()`` yourself), removed otherwise."""
    staged = Staged(check_output_dir(final, **check), what=check.get("what", "output folder"))
    try:
        yield staged
        if commit and not staged.committed:
            staged.commit()
    finally:
        staged.discard()
