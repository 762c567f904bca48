"""Jet generation at scale on Dask: one ROOT file per task (a shard), written atomically, resumable.

``generate_shards(folder, n_jets, scheduler="tcp://host:8786")`` cuts the work into the same tasks as
:func:`~triggernn.data.generate_jets` (at most ``CHUNK_JETS`` jets of one process stream each, a Pythia seed per
task derived from the arguments), runs them as Dask tasks (a LocalCluster of ``workers`` processes without an
address) and writes each as ``folder/shard-<stream>-<chunk>.root`` the moment it ends (``.tmp`` + rename). The
folder's ``manifest.json`` records the arguments and the shard list; started again with the same arguments, only
the missing shards run; with other arguments the folder is refused. :func:`~triggernn.data.load_jets` reads the
folder as one dataset, in shard order, so the jets depend only on the arguments (not on the workers, the
scheduler or interruptions).
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import time
from dataclasses import dataclass, field

from ..cluster import local_cluster
from ..errors import OutputError
from ..outputs import MARKER, marker_text
from .errors import DataError
from .features import CLASS_NAMES

__all__ = ["MANIFEST", "ShardRun", "generate_shards", "shard_files"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass
class ShardRun:
    """What a sharded generation did: the folder, the shards run now and those already there."""

    folder: pathlib.Path
    shards: list[pathlib.Path]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jets_run: int = 0

    @property
    def jets_per_second(self) -> float:
        return self.jets_run / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> list[str]:
        rate = f", {self.jets_per_second:.0f} jets/s" if self.ran else ""
        return [
            f"{self.folder}: {len(self.shards)} shards, {len(self.ran)} generated now, {len(self.skipped)} "
            f"already there ({self.jets_run:,} jets in {self.seconds:.0f} s{rate})"
        ]


def _shard_name(task) -> str:
    return f"shard-{task.stream}-{task.chunk:05d}.root"


def shard_files(folder: pathlib.Path) -> list[pathlib.Path]:
    """The shards a manifest lists, in its order; DataError naming the first that is missing."""
    manifest = json.loads((folder / MANIFEST).read_text())
    files = [folder / name for name in manifest["shards"]]
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise DataError(
            f"{folder}: {len(missing)} of {len(files)} shards are missing ({missing[0]}...): run the same "
            "`triggernn data generate` again to finish them"
        )
    return files


def _write_shard(task, folder: str, arguments: dict) -> tuple[str, int]:
    """One task, start to end, in a Dask worker: its jets as ``folder/<shard>.root`` (atomically)."""
    from .generate import _run_task, _write_root, file_meta

    final = pathlib.Path(folder) / _shard_name(task)
    part = _run_task(task)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        _write_root(tmp, [part], file_meta(arguments, [task], [part]))
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final.name, task.n_jets


def _open_folder(folder: pathlib.Path, manifest: dict) -> None:
    """Create ``folder``, or check it is ours with the same arguments (then: resume)."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            f"'{folder}' is a file: pass a folder for the shards, e.g. {folder.with_suffix('')}"
        )
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MANIFEST).is_file():
            raise OutputError(
                f"'{folder}' holds files triggernn did not write: pass an empty or new folder for the shards"
            )
        old = json.loads((folder / MANIFEST).read_text())
        if old.get("arguments") != manifest["arguments"]:
            changed = sorted(
                k
                for k in manifest["arguments"]
                if old.get("arguments", {}).get(k) != manifest["arguments"][k]
            )
            raise OutputError(
                f"'{folder}' holds shards made with other arguments ({', '.join(changed)} differ): pass "
                "another folder, or the same arguments to resume"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(marker_text("shard folder", "written by triggernn data generate --shards"))
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, folder / MANIFEST)


def generate_shards(
    folder: str | os.PathLike,
    n_jets: int = 2000,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    progress: bool = True,
    **options,
) -> ShardRun:
    """Generate ``n_jets`` jets as shards in ``folder`` on Dask (see the module docs); ``options`` are those of
    :func:`~triggernn.data.generate_jets` (classes, seed, pt window, constituents, physics options)."""
    from distributed import Client, as_completed

    from ..validate import dask_address, writable_folder
    from .generate import _import_gen, _tasks, generation_arguments

    folder = writable_folder(folder, "the shard folder")
    scheduler = dask_address(scheduler)  # parsed and reached before any folder is made
    if workers < 1:
        raise DataError(f"workers must be at least 1, got {workers}")
    arguments, task_kw = generation_arguments(n_jets, **options)
    tasks = _tasks(n_jets, arguments["classes"], **task_kw)
    manifest = {
        "generator": "triggernn.data.generate_shards",
        "arguments": arguments,
        "class_names": list(CLASS_NAMES),
        "shards": [_shard_name(t) for t in tasks],
    }
    _import_gen()
    _open_folder(folder, manifest)
    todo = [t for t in tasks if not (folder / _shard_name(t)).is_file()]
    run = ShardRun(
        folder,
        [folder / _shard_name(t) for t in tasks],
        skipped=[_shard_name(t) for t in tasks if t not in todo],
    )
    if not todo:
        return run
    t0 = time.perf_counter()
    cluster = None if scheduler else local_cluster(workers)
    try:
        with Client(scheduler or cluster) as client:
            futures = [
                client.submit(_write_shard, t, str(folder.absolute()), arguments, key=f"triggernn-shard-{_shard_name(t)}",
                              pure=False)
                for t in todo
            ]  # fmt: skip
            from tqdm.auto import tqdm

            with tqdm(
                total=sum(t.n_jets for t in todo), unit="jet", disable=not progress, desc="shards"
            ) as bar:
                for fut in as_completed(futures):
                    name, n = fut.result()
                    run.ran.append(name)
                    run.jets_run += n
                    bar.update(n)
    finally:  # also on Ctrl-C: finished shards are on disk, the rest run when started again
        if cluster is not None:
            cluster.close()
    run.seconds = time.perf_counter() - t0
    return run
