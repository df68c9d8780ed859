"""The production layout (scripts/layout.py) for the layout test: started once for the module,
stopped (and its database dropped) at the end. Collected only by `make layout-test`
(PORTAL_LAYOUT_TEST=1, see tests/conftest.py): it starts nginx, Redis and seven processes."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_layout_module():
    spec = importlib.util.spec_from_file_location("portal_layout", ROOT / "scripts" / "layout.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["portal_layout"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    module = load_layout_module()
    started = module.Layout(
        tmp_path_factory.mktemp("layout"),
        worker_interval=1.0,
        extra_env={
            # The test's slow job kind (tests/layout/jobs.py) and a lease short enough that the
            # job of a killed worker is taken over within the test (production: 30 minutes).
            "PORTAL_EXTRA_JOB_KINDS": "tests.layout.jobs:SLOW",
            "PORTAL_JOB_LEASE_SECONDS": "12",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            # Starting a login: 8 an hour per client address, so the test reaches the limit.
            "PORTAL_RATELIMIT_LOGIN": "8 per hour",
        },
    ).start()
    yield started
    started.stop()
