#!/usr/bin/env bash
# Removes the WardWatch program, menu entry and login start of this user. The ward's data (the encrypted
# record, logs, backups) and its key are left in place on purpose: records may have to be kept. The
# paths are printed so that IT can archive or remove them deliberately.
set -euo pipefail
dest="${WARDWATCH_HOME:-$HOME/.local/opt/wardwatch}"
if systemctl --user list-unit-files wardwatch.service >/dev/null 2>&1; then
  systemctl --user disable --now wardwatch.service 2>/dev/null || true
fi
rm -f "$HOME/.config/systemd/user/wardwatch.service" "$HOME/.config/autostart/wardwatch.desktop" \
  "$HOME/.local/share/applications/wardwatch.desktop" \
  "$HOME/.local/share/icons/hicolor/scalable/apps/wardwatch.svg"
systemctl --user daemon-reload 2>/dev/null || true
rm -rf "$dest" "$dest.previous"
echo "WardWatch removed. Left in place: data in ${XDG_DATA_HOME:-$HOME/.local/share}/wardwatch,"
echo "logs in ${XDG_STATE_HOME:-$HOME/.local/state}/wardwatch/log, the database key in the login keyring"
echo "(service 'WardWatch database key'). Remove them only when the ward's records are no longer needed."
