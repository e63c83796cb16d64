"""The production server's workers build the app through ``service.serve.worker_app``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service import serve


def test_the_server_builds_each_worker_with_worker_app() -> None:
    assert serve.APP_FACTORY == "service.serve:worker_app"
    module, _, name = serve.APP_FACTORY.partition(":")
    assert getattr(sys.modules[module], name) is serve.worker_app


def test_a_worker_app_leaves_start_up_frozen_out_of_the_collector(tmp_path: Path) -> None:
    """In a process of its own: freezing is for a worker, not for the test process."""
    code = ("import gc; from service.serve import worker_app; app = worker_app(); "
            "print(type(app).__name__, gc.get_freeze_count())")
    environment = {**os.environ, "ALUR_DATABASE_URL": f"sqlite:///{tmp_path}/worker.db"}
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                          timeout=120, check=True)
    kind, frozen = done.stdout.split()
    assert kind == "AlurFlask"  # the app itself, not a wrapper
    assert int(frozen) > 10_000  # the modules, mappers and routes of start-up
