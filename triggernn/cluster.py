"""The Dask clusters triggernn starts itself (scans, sharded jet generation) when no scheduler is given."""

from __future__ import annotations

__all__ = ["close_quietly", "local_cluster"]

_LOGGERS = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.core")


def local_cluster(workers: int):
    """A LocalCluster of ``workers`` single-threaded processes; its dashboard on a free port (the default
    8787 may be taken: a second cluster would warn, and fail under warnings-as-errors)."""
    import logging
    import os

    from distributed import LocalCluster

    # its INFO lines (workers started, a nanny's worker killed on close) are not the user's business, nor the
    # warnings a worker prints when Ctrl-C closes it mid-task: the workers (new processes) read this setting
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def close_quietly(cluster) -> None:
    """Close a LocalCluster after Ctrl-C: its nanny logs a worker killed ("still alive after 4 seconds") and the
    cancelled closing of killed workers as errors with tracebacks (Dask's own, not the user's business): kept out
    of the console."""
    import logging

    # each logger set on its own: the parent's level does not reach a child with a level of its own
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        cluster.close()
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
