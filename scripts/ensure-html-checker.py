"""Installs the W3C Nu Html Checker (vnu.jar) for the browser tests when it is missing.

The checker is the validator project's own `vnu-jar` package, fetched from the npm registry as a
plain tarball (no Node.js needed), pinned by version and checked against its sha512 integrity
before use. It needs Java 11 or later; scripts/ensure-browser.sh installs Debian's
default-jre-headless when `java` is missing. docs/decisions/0059-nu-html-checker.md says why.

    python scripts/ensure-html-checker.py      # prints the jar's path
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "26.9.27"
# The registry's `dist.integrity` of that version (sha512, base64).
INTEGRITY = "sha512-" + (
    "TkQd5DFfOaWC9ebtvozTsrH2Vaod3jYg+vrOeREzIXxBexLz9+rS2DNtjn7+RPUiZhgli0SghgBX6RJRNea0KA=="
)
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
ROOT = Path(__file__).resolve().parents[1]
JAR = ROOT / ".venv" / "share" / "vnu" / f"vnu-{VERSION}.jar"


def main() -> int:
    if JAR.exists():
        print(JAR)
        return 0
    url = f"{REGISTRY}/vnu-jar/-/vnu-jar-{VERSION}.tgz"
    print(f"Installing the Nu Html Checker {VERSION} from {url}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 (a fixed https URL)
        data = response.read()
    algorithm, expected = INTEGRITY.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        print(f"ERROR: {url} does not match its pinned {algorithm} integrity", file=sys.stderr)
        return 1
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.extractfile("package/build/dist/vnu.jar")
        assert member is not None
        JAR.parent.mkdir(parents=True, exist_ok=True)
        partial = JAR.with_suffix(".part")
        partial.write_bytes(member.read())
        partial.replace(JAR)
    print(JAR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
