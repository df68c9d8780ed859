"""A new online service is a catalog file: a procedure that exists only in a test fixture
(tests/e2e/fixtures/inu-toroku.yaml) is added to a copy of the catalog as its own file, listed in
the entry file, the portal serves it with no Python written for it, staff preview it, and a
resident completes it on a phone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.catalog import load_catalog
from tests.catalog_files import copy_catalog, edit, procedure_file
from tests.e2e import visited
from tests.e2e.conftest import start_live_server, stop
from tests.e2e.test_catalog_journeys import complete

FIXTURE = Path(__file__).with_name("fixtures") / "inu-toroku.yaml"


@pytest.fixture(scope="module")
def extended_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("extended")
    path = copy_catalog(workdir / "catalog")
    shutil.copy(FIXTURE, procedure_file(path, "inu-toroku"))
    edit(path, lambda entry: entry["procedures"].append("catalog/procedures/inu-toroku.yaml"))
    server, process = start_live_server(workdir, {"PORTAL_CATALOG_PATH": str(path)})
    yield server, load_catalog(path)
    stop(process)


def test_a_procedure_from_a_fixture_is_served_and_completed(
    browser, extended_server, audit, tmp_path
):
    server, catalog = extended_server
    procedure = catalog.procedure("inu-toroku")
    assert procedure is not None
    context = browser.new_context(
        viewport={"width": 412, "height": 915},
        is_mobile=True,
        has_touch=True,
        base_url=server.url,
        locale="ja-JP",
        bypass_csp=True,
    )
    visited.record(context, server.url, mobile=True, touch=True)
    try:
        page = context.new_page()
        page.goto("/?q=いぬ")
        expect(page.get_by_role("link", name="飼い犬の登録（テスト用）")).to_be_visible()
        audit(page)
        complete(page, audit, procedure, tmp_path)
        expect(
            page.get_by_text("6,000円", exact=True)
        ).to_be_visible()  # two dogs, computed on the server
    finally:
        context.close()
