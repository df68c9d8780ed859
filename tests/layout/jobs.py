"""A job kind for the layout test only (tests/layout): slow enough that a worker can be killed
while it runs. The layout test enables it with PORTAL_EXTRA_JOB_KINDS; nothing else does."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from portal.jobs.queue import JobContext, JobKind


class SlowPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    marker: str  # a file the run appends "started <pid> <attempt>" and "finished <pid>" to
    seconds: float


def _run(payload: SlowPayload, context: JobContext) -> str:
    marker = Path(payload.marker)
    with marker.open("a") as out:
        out.write(f"started {os.getpid()} {context.attempt}\n")
    time.sleep(payload.seconds)
    with marker.open("a") as out:
        out.write(f"finished {os.getpid()}\n")
    return f"layout-slow: finished in worker {os.getpid()}"


SLOW = JobKind("layout-slow", SlowPayload, _run)
