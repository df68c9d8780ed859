#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's Chromium and Japanese fonts,
# and Java with the Nu Html Checker (vnu.jar, scripts/ensure-html-checker.py), which validates
# every page the browser tests visit. Playwright cannot download its own browsers on these
# machines, so the tests drive /usr/bin/chromium.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" || missing+=(fonts-noto-cjk)
command -v java >/dev/null || missing+=(default-jre-headless)
html_checker() { .venv/bin/python scripts/ensure-html-checker.py >/dev/null; }
[ ${#missing[@]} -eq 0 ] && { html_checker; exit 0; }
echo "Installing for the browser tests: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "ERROR: ${missing[*]} missing and not running as root." >&2
    echo "Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
html_checker
