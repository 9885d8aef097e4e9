#!/usr/bin/env bash
# Sets up WardWatch on a Debian/Ubuntu machine: the Debian libraries Qt needs (installed when run as
# root, named otherwise) and the virtual environment .venv/ at the repo root.
# Usage: packaging/setup.sh [run|test]   (what to install: the station, or the station plus test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-run}"
PYTHON="${PYTHON:-python3}"

# Qt (xcb and offscreen platforms), fonts for readable numerics, PulseAudio client for alarm tones,
# Xvfb/ImageMagick for screenshots of a real window, and OpenMP for the deterioration model (LightGBM).
DEB_PACKAGES=(
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xkb1 libx11-xcb1 libpulse0 fonts-dejavu-core
  libgomp1
)
if [ "$what" = "test" ]; then
  # screenshots of a real window; a real Secret Service (GNOME Keyring in a private D-Bus session)
  # for the tests of the database key; a real MQTT broker (mosquitto, with mosquitto_passwd) for the
  # hospital tests, which start their own on a free loopback port: the package's service need not run
  DEB_PACKAGES+=(xvfb xauth imagemagick gnome-keyring dbus-daemon mosquitto)
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "WardWatch needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "WardWatch needs these Debian packages, which are not installed:" >&2
    echo "  ${missing[*]}" >&2
    echo "Install them as root:  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

extras=""
[ "$what" = "test" ] && extras="[test]"
stamp=".venv/.wardwatch-installed${extras:+-test}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras}"
  touch "$stamp"
fi
