#!/usr/bin/env bash
# Screenshot of the station in a real X window under Xvfb (1920x1080), as a nurse would see it.
# It records into a throw-away data dir, with its key in a throw-away keyring session, as a ward PC would.
# Usage: packaging/screenshot.sh OUT.png [seconds-to-wait] [wardwatch arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1"; shift
wait_s="${1:-8}"; [ $# -gt 0 ] && shift
data="$(mktemp -d "${TMPDIR:-/tmp}/wardwatch-shot.XXXXXX")"
trap 'rm -rf "$data"' EXIT
packaging/with-keyring.sh xvfb-run -a -s "-screen 0 1920x1080x24" bash -c "
  .venv/bin/wardwatch --kiosk --data-dir '$data' $* &
  pid=\$!
  sleep $wait_s
  import -window root '$out'
  kill \$pid; wait \$pid 2>/dev/null || true
"
echo "wrote $out"
