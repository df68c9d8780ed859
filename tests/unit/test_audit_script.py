"""scripts/audit.py (`make audit`, CI's audit stage) with the real pip-audit against a small OSV
service on 127.0.0.1: clean pins pass (0), a known vulnerability fails (1) unless it is listed in
the ignore file, and an advisory service that cannot be reached gives "dependency audit not run"
(75, or 1 with PORTAL_AUDIT_REQUIRED=1), never a pass."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PINS = ["flask==3.1.3", "jinja2==3.1.6", "itsdangerous==2.2.0"]
ADVISORY = {
    "id": "GHSA-test-0000-0000",
    "summary": "a made-up advisory for this test",
    "affected": [
        {
            "package": {"name": "jinja2", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.7"}]}],
        }
    ],
}


def load_script():
    spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def osv():
    """An OSV query endpoint that knows one advisory (jinja2 before 3.1.7); the queries asked."""
    asked: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            asked.append(query)
            vulnerable = query["package"]["name"] == "jinja2" and query["version"] == "3.1.6"
            body = json.dumps({"vulns": [ADVISORY]} if vulnerable else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query", asked
    server.shutdown()
    server.server_close()


@pytest.fixture
def script(tmp_path, monkeypatch):
    module = load_script()
    lock = tmp_path / "dev.txt"
    lock.write_text("# a lock\n" + "\n".join(PINS) + "\n")
    monkeypatch.setattr(module, "LOCK", lock)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "IGNORED", tmp_path / "audit-ignore.txt")
    monkeypatch.setattr(module, "SERVICES", ("osv",))  # the one we can serve here
    monkeypatch.delenv("PORTAL_AUDIT_REQUIRED", raising=False)
    return module


def test_clean_pins_pass_and_every_pin_was_asked_about(script, osv, monkeypatch, capfd):
    url, asked = osv
    script.LOCK.write_text("itsdangerous==2.2.0\nflask==3.1.3\n")
    monkeypatch.setenv("PORTAL_AUDIT_OSV_URL", url)
    assert script.main() == 0
    names = [q["package"]["name"] for q in asked]
    assert names[0] == "itsdangerous"  # the probe
    assert sorted(names[1:]) == ["flask", "itsdangerous"]  # the audit: every pin
    captured = capfd.readouterr()
    assert "No known vulnerabilities found" in captured.out + captured.err


def test_a_known_vulnerability_fails_the_audit(script, osv, monkeypatch, capfd):
    url, _ = osv
    monkeypatch.setenv("PORTAL_AUDIT_OSV_URL", url)
    assert script.main() == 1
    captured = capfd.readouterr()
    assert "GHSA-test-0000-0000" in captured.out and "3.1.7" in captured.out


def test_an_accepted_vulnerability_is_listed_with_its_reason(script, osv, monkeypatch):
    url, _ = osv
    monkeypatch.setenv("PORTAL_AUDIT_OSV_URL", url)
    script.IGNORED.write_text("GHSA-test-0000-0000  # made up for this test; look again 2027-01\n")
    assert script.main() == 0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_advisory_data_means_not_run_never_a_pass(script, monkeypatch, capfd):
    monkeypatch.setenv("PORTAL_AUDIT_OSV_URL", f"http://127.0.0.1:{closed_port()}/v1/query")
    assert script.main() == script.NOT_RUN == 75
    out = capfd.readouterr().out
    assert "dependency audit not run" in out and "osv:" in out
    assert "No known vulnerabilities" not in out
    monkeypatch.setenv("PORTAL_AUDIT_REQUIRED", "1")
    assert script.main() == 1
