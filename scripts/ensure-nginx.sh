#!/usr/bin/env bash
# Installs Debian's nginx for the production layout (scripts/layout.py) when it is missing. The
# layout runs its own nginx in the foreground with its own configuration; the package's service
# is never started or stopped by the layout (on a machine whose policy-rc.d allows it, Debian's
# package starts its default site on port 80 when installed: stop it yourself if unwanted).
set -euo pipefail
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] && exit 0
echo "Installing for the production layout: nginx"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "ERROR: nginx missing and not running as root." >&2
    echo "Run: sudo apt-get update && sudo apt-get install -y nginx" >&2
    exit 1
  fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
echo "Installed: nginx"
