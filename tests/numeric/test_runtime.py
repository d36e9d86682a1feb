"""How verification runs: BLAS threads limited when threadpoolctl is there, and
nothing required when it is not."""

from __future__ import annotations

import os
import sys

import pytest

from shapecheck.numeric.runtime import THREADED_FROM_BYTES, blas_threads


def test_blas_threads_runs_the_block_without_threadpoolctl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A None entry in sys.modules makes `import threadpoolctl` raise ImportError.
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    ran = []
    with blas_threads(1024):
        ran.append(True)
    assert ran == [True]


def test_blas_threads_limits_small_work_to_one_thread_when_available() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with blas_threads(1024):
        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas":
                assert pool["num_threads"] == 1
    with blas_threads(THREADED_FROM_BYTES):
        pass  # large work keeps the BLAS's own setting when a core is idle


def test_large_work_runs_on_one_thread_when_no_core_is_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    # A load as high as the machine has cores: a second thread would only wait.
    monkeypatch.setattr(os, "getloadavg", lambda: (float(os.cpu_count() or 1), 0.0, 0.0))
    with blas_threads(THREADED_FROM_BYTES):
        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas":
                assert pool["num_threads"] == 1


def test_large_work_keeps_the_blas_threads_on_an_idle_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    with blas_threads(THREADED_FROM_BYTES):
        inside = [
            p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"
        ]
    assert inside == before
