"""The test session's build machinery itself (tests/conftest.py): a worker that dies is reported with its log,
an unknown build is refused, and the workers' jobs cover every build once. (The in-process path, a build no
worker makes, is what every run of a few test files takes.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LazyBuilds
from tools.platform import AUDIT, AUDITED_BUILDS, BUILDS, WORKER_JOBS


def test_a_failed_worker_is_reported_with_its_log(tmp_path: Path) -> None:
    lazy = LazyBuilds(tmp_path)
    log = tmp_path / "worker-0.log"
    log.write_text("Traceback ...\nValueError: pipeline definition drift: unreplaced value 'placeholder-x'\n")
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    process.wait()
    lazy._workers.append((process, log, ("sandbox",)))
    with pytest.raises(RuntimeError, match=r"(?s)the worker synthesizing sandbox failed:.*unreplaced value"):
        lazy["sandbox"]


def test_an_unknown_build_is_a_key_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        LazyBuilds(tmp_path)["no-such-build"]


def test_the_workers_make_every_build_once_and_the_audits() -> None:
    jobs = [job for worker in WORKER_JOBS for job in worker]
    assert len(jobs) == len(set(jobs))
    assert {job for job in jobs if not job.endswith(AUDIT)} == set(BUILDS)
    assert {job.removesuffix(AUDIT) for job in jobs if job.endswith(AUDIT)} == set(AUDITED_BUILDS)
