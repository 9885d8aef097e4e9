#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a real Secret Service (GNOME Keyring), unlocked
# with a throw-away password: how the tests use the OS keyring on a machine without a desktop (CI).
# Usage: packaging/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ "${WARDWATCH_IN_KEYRING_SESSION:-}" = "1" ]; then
  exec "$@"
fi
for tool in dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "with-keyring: '$tool' is missing; install it as root: apt-get install gnome-keyring dbus-daemon" >&2
    exit 1
  fi
done
export WARDWATCH_IN_KEYRING_SESSION=1
# The daemon keeps its keyrings in a throw-away folder, never in the user's own login keyring.
store="$(mktemp -d "${TMPDIR:-/tmp}/wardwatch-keyring.XXXXXX")"
trap 'rm -rf "$store"' EXIT
dbus-run-session -- bash -c '
  echo -n "wardwatch-test-keyring" | XDG_DATA_HOME="$0" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"
' "$store" "$@"
