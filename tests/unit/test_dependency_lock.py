"""The lock files agree with pyproject.toml (docs/decisions/0047): every direct pin is in the lock
at the same version, the runtime lock is the development lock's subset at the same versions,
every line is one exact pin, and the build backend is pinned within what pyproject.toml allows.
A pin changed in pyproject.toml without `make lock` fails here."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def lock(name: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        assert not requirement.extras and requirement.marker is None, line
        key = canonicalize_name(requirement.name)
        assert key not in pins, f"{key} twice"
        pins[key] = Version(specifier.version)
    return pins


def direct(group: list[str]) -> dict[str, Version]:
    pins = {}
    for text in group:
        requirement = Requirement(text)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{text}: pyproject.toml pins exactly"
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME, DEV, BENCH = lock("runtime.txt"), lock("dev.txt"), lock("bench.txt")


def test_every_runtime_pin_of_pyproject_is_locked_at_its_version():
    for name, version in direct(PYPROJECT["project"]["dependencies"]).items():
        assert RUNTIME.get(name) == version, name
        assert DEV.get(name) == version, name


def test_every_development_pin_of_pyproject_is_locked_at_its_version():
    for name, version in direct(PYPROJECT["project"]["optional-dependencies"]["dev"]).items():
        assert DEV.get(name) == version, name
    assert "pip-audit" in DEV


def test_the_bench_lock_is_the_development_lock_plus_the_load_test_pins():
    for name, version in direct(PYPROJECT["project"]["optional-dependencies"]["bench"]).items():
        assert BENCH.get(name) == version, name
    assert {name: BENCH.get(name) for name in DEV} == DEV
    assert "locust" not in DEV and "gevent" not in DEV


def test_the_runtime_lock_is_part_of_the_development_lock():
    assert {name: DEV.get(name) for name in RUNTIME} == RUNTIME
    assert len(DEV) > len(RUNTIME) > len(PYPROJECT["project"]["dependencies"])


def test_pip_and_the_build_backend_are_pinned_within_pyproject():
    for pins in (RUNTIME, DEV, BENCH):
        assert "pip" in pins
        for text in PYPROJECT["build-system"]["requires"]:
            requirement = Requirement(text)
            assert pins[canonicalize_name(requirement.name)] in requirement.specifier
