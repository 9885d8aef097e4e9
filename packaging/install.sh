#!/usr/bin/env bash
# Installs (or upgrades to) this WardWatch build for the ward PC's station user, without root:
#   the program in ~/.local/opt/wardwatch (the previous one kept as wardwatch.previous for a rollback),
#   a menu entry and icon, and the full-screen start at login: a systemd user service when the session
#   has a systemd user manager, otherwise an autostart entry that runs the station under its watchdog.
# Usage (from the unpacked build folder):  ./install.sh [--autostart]
# Data and the database key are not touched: they live in ~/.local/share/wardwatch and the keyring.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${WARDWATCH_HOME:-$HOME/.local/opt/wardwatch}"
[ -x "$here/wardwatch" ] || { echo "run install.sh from the build folder (dist/wardwatch)" >&2; exit 1; }

mkdir -p "$(dirname "$dest")"
if [ "$here" != "$dest" ]; then
  rm -rf "$dest.new"
  cp -a "$here" "$dest.new"
  if [ -d "$dest" ]; then
    rm -rf "$dest.previous"
    mv "$dest" "$dest.previous"
  fi
  mv "$dest.new" "$dest"
fi

mkdir -p "$HOME/.local/share/icons/hicolor/scalable/apps" "$HOME/.local/share/applications"
cp "$dest/wardwatch.svg" "$HOME/.local/share/icons/hicolor/scalable/apps/wardwatch.svg"
sed "s#^Exec=.*#Exec=\"$dest/wardwatch\"#" "$dest/wardwatch.desktop" \
  > "$HOME/.local/share/applications/wardwatch.desktop"

if [ "${1:-}" != "--autostart" ] && systemctl --user show-environment >/dev/null 2>&1; then
  mkdir -p "$HOME/.config/systemd/user"
  sed "s#%h/.local/opt/wardwatch/wardwatch#\"$dest/wardwatch\"#" "$dest/systemd/wardwatch.service" \
    > "$HOME/.config/systemd/user/wardwatch.service"
  systemctl --user daemon-reload
  systemctl --user enable wardwatch.service
  echo "installed in $dest; starts full screen at login (systemd user service 'wardwatch')."
  echo "start it now: systemctl --user start wardwatch"
else
  mkdir -p "$HOME/.config/autostart"
  sed -e "s#^Exec=.*#Exec=\"$dest/wardwatch\" watchdog -- --kiosk#" -e "s#^Name=.*#Name=WardWatch (kiosk)#" \
    "$dest/wardwatch.desktop" > "$HOME/.config/autostart/wardwatch.desktop"
  echo "installed in $dest; starts full screen at login under its watchdog (autostart entry)."
fi
