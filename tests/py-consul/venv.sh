#!/usr/bin/env bash
# Makes (or brings up to date) the virtualenv with py-consul 1.8.0 and the pinned packages
# its tests need, under target/py-consul/venv/, and prints the path of its python (nothing
# else on stdout; progress goes to stderr).
#
#   python="$(tests/py-consul/venv.sh)"
#
# Used by tests/py-consul/run.sh (py-consul's own suite) and by tests/tests/https_clients.rs
# (py-consul over HTTPS with a client certificate), in either order. Idempotent: once the
# venv holds the pinned requirements it only prints the path. Runs one at a time (flock).
#
# Needs only Python 3 (3.11 tested) with venv, virtualenv or pip. Environment: PYTHON
# (default python3).
set -euo pipefail
exec 3>&1 1>&2
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/py-consul"
venv="$work/venv"
python="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
# Everything the tests import, pinned (py-consul needs requests; tests/utils.py packaging).
requirements=(
    "py-consul==1.8.0"
    "requests==2.34.2" "urllib3==2.8.0" "idna==3.20" "certifi==2026.10.19.post1"
    "charset-normalizer==3.5.2"
    "pytest==8.3.5" "pluggy==1.7.0" "iniconfig==2.3.1" "packaging==26.3"
    # the sdist's pytest config sets asyncio_mode; without the plugin pytest warns about it
    "pytest-asyncio==0.26.0"
)
mkdir -p "$work"
if command -v flock >/dev/null; then
    exec 9>"$work/venv.lock"
    flock 9
fi

make_venv() {
    rm -rf "$venv"
    if "$python" -m venv "$venv" 2>"$work/venv.err"; then
        return 0
    fi
    # Debian/Ubuntu without python3-venv: ensurepip is missing. Try virtualenv instead.
    echo "venv.sh: '$python -m venv' failed ($(tail -n1 "$work/venv.err")); trying virtualenv"
    rm -rf "$venv"
    if "$python" -m virtualenv --version >/dev/null 2>&1; then
        "$python" -m virtualenv -q "$venv" && return 0
    fi
    if "$python" -m pip --version >/dev/null 2>&1; then
        rm -rf "$work/virtualenv-pkg"
        "$python" -m pip install --quiet --disable-pip-version-check \
            --target "$work/virtualenv-pkg" "virtualenv==20.29.3" &&
            PYTHONPATH="$work/virtualenv-pkg" "$python" -m virtualenv -q "$venv" && return 0
    fi
    echo "venv.sh: cannot create a virtualenv with $python."
    echo "venv.sh: on Debian/Ubuntu: apt-get install python3-venv (or python3-pip)"
    exit 1
}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "" 2>/dev/null; then
    make_venv
fi
stamp="$venv/.proconsul-requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "${requirements[*]}" >"$stamp"
fi
echo "$venv/bin/python" >&3
