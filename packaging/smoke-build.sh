#!/usr/bin/env bash
# Checks a one-folder build (default dist/wardwatch) as IT would receive it, without a display:
#   1. it prints its versions; 2. it runs the whole pipeline headless for 10 s, recording into a fresh
#   encrypted database (key file, no keyring needed); 3. it draws its real window offscreen and reports
#   the time from process start to the first frame, and the frame rate.
# Usage: packaging/smoke-build.sh [BUILD_DIR]
set -euo pipefail
build="${1:-$(dirname "$0")/../dist/wardwatch}"
exe="$build/wardwatch"
[ -x "$exe" ] || { echo "no build at $build (run packaging/build.sh)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen
# a fresh user: no config, data and logs in the scratch dir
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
mkdir -p "$HOME"
"$exe" info
python3 - "$work/station.key" <<'PY'
import os, secrets, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, (secrets.token_hex(32) + "\n").encode())
os.close(fd)
PY
"$exe" run --headless --duration 10 --beds 4 --data-dir "$work/data" --key-file "$work/station.key"
ls -la "$work/data"
"$exe" bench display --beds 16 --seconds 10 --json
echo "smoke test of $build passed"
