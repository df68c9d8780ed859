"""Against the live multi-worker server: ten identical submits released together give one
submission, and every response shows its reference (run on SQLite, and on PostgreSQL in CI)."""

from __future__ import annotations

import re
import threading

import pytest

from tests.e2e.http_resident import HttpResident

JUMINHYO = "/procedures/juminhyo-copy"
STEPS = {
    "applicant": {
        "applicant_name": "大原 太郎",
        "applicant_kana": "オオハラ タロウ",
        "phone": "090-1234-5678",
        "relationship": "self",
    },
    "target": {"scope": "self"},
    "copies-purpose": {"copies": "1", "purpose": "pension"},
    "delivery": {"delivery": "counter"},
}
REFERENCE = re.compile(r'<strong class="reference">(ISM-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>')


def fill_juminhyo(resident: HttpResident) -> str:
    page = resident.get(JUMINHYO)
    resident.post(f"{JUMINHYO}/start", {}, page.csrf_token)
    for step, answers in STEPS.items():
        page = resident.get(f"{JUMINHYO}/apply/{step}")
        result = resident.post(f"{JUMINHYO}/apply/{step}", answers, page.csrf_token)
        assert result.status == 200 and "エラー" not in result.html[:300], result.url
    return resident.get(f"{JUMINHYO}/check").csrf_token


@pytest.mark.pg_smoke
def test_ten_identical_submits_make_one_application(live_server):
    resident = HttpResident(live_server.url)
    token = fill_juminhyo(resident)
    tabs = [resident.copy_session() for _ in range(10)]
    barrier = threading.Barrier(10, timeout=30)
    pages = [None] * 10

    def submit(index: int) -> None:
        barrier.wait()
        pages[index] = tabs[index].post(f"{JUMINHYO}/check", {"declaration": "yes"}, token)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert [page.status for page in pages] == [200] * 10
    references = {REFERENCE.search(page.html).group(1) for page in pages}
    assert len(references) == 1, references
    # The status page of that one application shows one submission event.
    status_url = re.search(r'href="(http[^"]+/status/[^"]+)"', pages[0].html).group(1)
    status = resident.get(status_url.removeprefix(live_server.url))
    assert status.html.count('class="timeline__date"') == 1
