"""`make audit` and CI's audit stage: pip-audit, strict, over every pinned package.

pip-audit asks an advisory service about each package of requirements/dev.txt (which holds the
runtime lock too) at its pinned version: PyPI's JSON API first, else OSV. Before the audit, each
service is asked about one pinned package; a service that cannot answer (no network to it, or an
index that serves no per-version data, so that every package would be skipped) is not used.

Exit status: 0 audited, nothing known; 1 a known vulnerability, or a package the audit could not
check (--strict); 75 the audit was not run because no advisory service could be reached. It then
prints "dependency audit not run" and the reason, and claims nothing. With
PORTAL_AUDIT_REQUIRED=1 that is a failure (1) instead: for a machine that must reach them.
PORTAL_AUDIT_OSV_URL: another OSV query address (a mirror inside the city's network).
Accepted vulnerabilities (none today) are listed with their reason in requirements/audit-ignore.txt.
docs/decisions/0047-pinned-and-audited-dependencies.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.txt"
IGNORED = ROOT / "requirements" / "audit-ignore.txt"
SERVICES = ("pypi", "osv")
NOT_RUN = 75  # EX_TEMPFAIL: try again where the advisory data can be reached
PIP_AUDIT = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--timeout", "15"]


def pins() -> list[str]:
    lines = (line.split("#")[0].strip() for line in LOCK.read_text().splitlines())
    return [line for line in lines if line]


def ignored() -> list[str]:
    if not IGNORED.exists():
        return []
    lines = (line.split("#")[0].strip() for line in IGNORED.read_text().splitlines())
    return [line for line in lines if line]


def service_options(service: str) -> list[str]:
    options = ["-s", service]
    osv_url = os.environ.get("PORTAL_AUDIT_OSV_URL")
    if service == "osv" and osv_url:
        options += ["--osv-url", osv_url]
    return options


def unreachable(service: str, probe: str) -> str | None:
    """Why `service` cannot audit (None when it answered about the probe package)."""
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "probe.txt"
        one.write_text(probe + "\n")
        run = subprocess.run(  # noqa: S603 - our own arguments, no shell
            [*PIP_AUDIT, "-r", str(one), "--no-deps", "--disable-pip", "-f", "json"]
            + service_options(service),
            capture_output=True,
            text=True,
            timeout=120,
        )
    if run.returncode not in (0, 1):
        return f"pip-audit exited with {run.returncode}"
    try:
        dependencies = json.loads(run.stdout)["dependencies"]
    except (ValueError, KeyError):
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        return lines[-1][:300] if lines else "no answer"
    skipped = [d.get("skip_reason") for d in dependencies if d.get("skip_reason")]
    return f"no advisory data for {probe} (pip-audit: {skipped[0]})" if skipped else None


def main() -> int:
    packages = pins()
    print(f"dependency audit: {len(packages)} pinned packages in {LOCK.relative_to(ROOT)}")
    reasons = []
    for service in SERVICES:
        reason = unreachable(service, packages[0])
        if reason is None:
            break
        reasons.append(f"{service}: {reason}")
    else:
        print("dependency audit not run: no advisory service could be reached from this machine")
        for reason in reasons:
            print(f"  {reason}")
        if os.environ.get("PORTAL_AUDIT_REQUIRED") == "1":
            print("PORTAL_AUDIT_REQUIRED=1: a dependency audit that did not run is a failure")
            return 1
        return NOT_RUN
    command = [*PIP_AUDIT, "--strict", "-r", str(LOCK), "--no-deps", "--disable-pip"]
    command += service_options(service)
    for vulnerability in ignored():
        command += ["--ignore-vuln", vulnerability]
    print(f"dependency audit against {service}: {' '.join(command[2:])}")
    return subprocess.run(command).returncode  # noqa: S603 - our own arguments, no shell


if __name__ == "__main__":
    sys.exit(main())
