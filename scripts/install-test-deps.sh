#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, and nothing when it is already there:
#   - Debian packages nginx, libnginx-mod-rtmp and ffmpeg (the RTMP pipeline tests), and wrk
#     (the yardstick of livenotify-bench);
#   - a Python venv at .venv (gitignored) with the official Alibaba Cloud SDKs and pytest,
#     pinned in tests/sdk/requirements.txt;
#   - Debian's chromium and npm's playwright-core (tests/console, the web console test).
# Safe to run again and again; a second run takes well under a second.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

venv="$repo_root/.venv"
requirements="$repo_root/tests/sdk/requirements.txt"
python_bin=${PYTHON:-python3}
apt_packages=(nginx libnginx-mod-rtmp ffmpeg wrk)

say() { printf '[install-test-deps] %s\n' "$*"; }

# ---- Debian packages ------------------------------------------------------------------------

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_debian_packages() {
    local missing=()
    local pkg
    for pkg in "${apt_packages[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ] && command -v nginx >/dev/null && command -v ffmpeg >/dev/null; then
        say "Debian packages present: ${apt_packages[*]}"
        return 0
    fi
    [ "${#missing[@]}" -gt 0 ] || missing=("${apt_packages[@]}")
    if ! command -v apt-get >/dev/null; then
        say "ERROR: missing ${missing[*]} and there is no apt-get to install them" >&2
        return 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { say "ERROR: need root (or sudo) to install ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q </dev/null
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    # Installing nginx on Debian starts the distribution's service on port 80; the tests run
    # their own nginx, so stop that one if it came up.
    if [ -x /usr/sbin/service ] && [ -f /run/nginx.pid ]; then
        "${sudo[@]}" service nginx stop >/dev/null 2>&1 || true
    fi
    command -v nginx >/dev/null && command -v ffmpeg >/dev/null || {
        say "ERROR: nginx or ffmpeg still missing after apt-get install" >&2
        return 1
    }
}

# ---- Python venv ----------------------------------------------------------------------------

install_python_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        say "creating venv $venv with $("$python_bin" --version 2>&1)"
        rm -rf "$venv"
        "$python_bin" -m venv "$venv"
    fi
    # Reinstall only when the pinned list changed since the last successful install.
    local stamp="$venv/.requirements.sha256"
    local wanted
    wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] \
        && "$venv/bin/python" -c 'import alibabacloud_live20161101, aliyunsdkcore, aliyunsdklive, pytest' 2>/dev/null; then
        say "Python packages present in $venv"
        return 0
    fi
    say "installing Python packages from ${requirements#"$repo_root"/}"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$venv/bin/python" -m pip install -q -r "$requirements" </dev/null
    "$venv/bin/python" -c 'import alibabacloud_live20161101, aliyunsdkcore, aliyunsdklive, pytest'
    echo "$wanted" >"$stamp"
}

# ---- Console test: Debian's chromium and npm's playwright-core ----------------------------------

# The web console test drives /usr/bin/chromium through playwright-core, installed from the
# committed package-lock.json into tests/console/node_modules (gitignored).
install_console_test_deps() {
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    if [ ! -x /usr/bin/chromium ]; then
        say "installing Debian package: chromium"
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -q </dev/null
        "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium </dev/null
    else
        say "Debian package present: chromium"
    fi
    local dir="$repo_root/tests/console"
    local stamp="$dir/node_modules/.package-lock.sha256"
    local wanted
    wanted=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] \
        && [ -f "$dir/node_modules/playwright-core/package.json" ]; then
        say "npm packages present in tests/console/node_modules"
        return 0
    fi
    say "installing npm packages into tests/console/node_modules"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error </dev/null
    echo "$wanted" >"$stamp"
}

install_debian_packages
install_python_venv
install_console_test_deps
say "done"
