#!/usr/bin/env bash
# The project's test command (see README): `bash tests/run.sh [pytest args...]`.
#
# Installs what the tests need on a fresh Debian machine with Python 3.11 and
# pip: nginx-light and openssl through apt-get (only when missing), and the
# package with its "test" extra through pip; then runs pytest in parallel
# (pytest-xdist). The exit code is pytest's; "no tests collected" (5) fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

have_nginx() { [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; }
have_openssl() { command -v openssl >/dev/null 2>&1; }

install_system_packages() {
    local sudo="" log
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "run.sh: note: nginx/openssl missing and no apt-get here; tests needing them will skip (fail under CI=true)" >&2
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "run.sh: note: nginx/openssl missing, not root and no sudo; tests needing them will skip (fail under CI=true)" >&2
            return 0
        fi
        sudo="sudo -n"
    fi
    echo "run.sh: installing nginx-light and openssl with apt-get ..."
    log="$(mktemp)"
    if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            nginx-light openssl >>"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    tail -n 30 "$log" >&2
    rm -f "$log"
    echo "run.sh: apt-get failed to install nginx-light/openssl" >&2
    if [ "${CI:-}" = "true" ]; then
        exit 1
    fi
    echo "run.sh: continuing; tests needing them will skip" >&2
}

if ! have_nginx || ! have_openssl; then
    install_system_packages
fi

python3 -m pip install -q -e ".[test]"

rc=0
python3 -m pytest -n auto -p no:cacheprovider tests "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "run.sh: pytest collected no tests; treating that as a failure" >&2
    rc=1
fi
exit "$rc"
