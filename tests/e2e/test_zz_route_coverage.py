"""Every page route of the portal has been audited with axe by some browser test in this run.

A new route without a browser test fails here. Runs last (see conftest); run the whole browser
suite for it to mean anything. Under pytest-xdist the controller makes the check over every
worker's audits (tests/conftest.py).
"""

from __future__ import annotations

import tempfile

from portal import create_app
from tests.e2e import axe

# Routes that are not pages a person visits.
NOT_PAGES = {
    "static": "CSS and JavaScript files",
    "health.healthz": "JSON liveness check, tested in tests/web/test_observability.py",
    "health.readyz": "JSON readiness check, tested in tests/web/test_observability.py",
    "submissions.draft_file": "file download (attachment), tested in test_hoiku.py",
    "submissions.status_file": "file download (attachment), tested in tests/web",
    "mock_jpki.discovery": "JSON (OpenID discovery), tested in test_mock_jpki_protocol.py",
    "mock_jpki.jwks": "JSON (keys), tested in test_mock_jpki_protocol.py",
    "mock_jpki.userinfo": "JSON (claims), tested in test_mock_jpki_protocol.py",
    "mock_jpki.ca_root": "PEM certificate, tested in test_mock_jpki_pages.py",
    "mock_jpki.ca_crl": "PEM revocation list, tested in test_mock_jpki_pages.py",
    "mock_jpki.sign_transaction_result": "JSON (signatures), tested in test_mock_jpki_pages.py",
    "appointments.calendar_file": ".ics download, tested in test_appointments.py (both kinds)",
    "payments.return_from_provider": "redirect back from the provider, tested in test_payments.py",
    "submissions.sign_callback": "redirect back from signing, tested in test_hoiku.py",
    "staff_session_timeout.time_left": "JSON (seconds left of a staff login), as above",
    "session_timeout.time_left": "JSON (seconds left of a login), tested in test_session_timeout.py",
    "dev_mail.attachment": "file download (a mail's attachment), tested in test_dev_mail.py",
    "mock_pay.api_payment": "JSON (the mock payment service's API), tests/web/test_mock_pay.py",
    "bundles.member_file": "file download (a bundle application's attachment), tests/web",
    "staff.export_csv": "CSV download (downloaded in test_staff_exports.py; errors: its form)",
    "staff_api.submissions": "JSON (the staff API for core systems), tests/web",
    "staff.case_file": "file download (a case's attachment), test_staff_workflow.py",
    "staff.counter_card": "redirect back from the card reader, test_staff_counter.py (errors: web)",
    "staff.counter_file": "file download (a counter draft's attachment), tests/web",
    "counter.sign_callback": "redirect back from signing at the counter, tests/web",
    "kiosk.certificate_paid": "redirect back from the payment provider, test_kiosk_services.py",
    "kiosk.print_css": "CSS (the receipt printer's paper), tests/web/test_kiosk_services.py",
    "kiosk.time_left": "JSON (seconds before a kiosk visit is wiped), tests/web/test_kiosk.py",
    "assisted.welcome": "redirect after a helper's card login (its refusal: tests/web/test_assisted.py)",
    "assisted.practice_join": "redirect into a practice class (its link; tests/web/test_assisted.py)",
}


def test_every_page_route_was_audited():
    missing = missing_routes(axe.AUDITED_PATHS)
    assert not missing, f"page routes never audited with axe by a browser test: {missing}"


def missing_routes(audited_paths) -> list[str]:
    """The page routes that none of `audited_paths` came from (also used by tests/conftest.py
    to make this check over every worker of a parallel run)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app("test", {"INSTANCE_PATH": instance})
    adapter = app.url_map.bind("localhost")
    page_endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.endpoint.startswith("api.")  # the JSON API, tested in tests/web/test_api.py
    }
    audited = {endpoint_of(adapter, path) for path in audited_paths}
    assert audited <= {rule.endpoint for rule in app.url_map.iter_rules()}
    return sorted(page_endpoints - audited)


def endpoint_of(adapter, path: str) -> str:
    """The route a page came from; some pages answer a POST only (the logout page)."""
    from werkzeug.exceptions import MethodNotAllowed

    try:
        return adapter.match(path, method="GET")[0]
    except MethodNotAllowed:
        return adapter.match(path, method="POST")[0]
