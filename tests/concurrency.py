"""Running work in threads released together (the races of the database-level tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run work(0) … work(count - 1) in threads that start at the same moment; the errors."""
    barrier = threading.Barrier(count, timeout=60)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as error:  # noqa: BLE001 - returned to the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors
