"""The Dask clusters triggernn starts itself (scans, sharded jet generation) when no scheduler is given."""

from __future__ import annotations

__all__ = ["local_cluster"]


def local_cluster(workers: int):
    """A LocalCluster of ``workers`` single-threaded processes; its dashboard on a free port (the default
    8787 may be taken: a second cluster would warn, and fail under warnings-as-errors)."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
