#!/usr/bin/env bash
# Builds the self-contained one-folder station in dist/wardwatch/ (run dist/wardwatch/wardwatch).
# Usage: packaging/build.sh      (Debian 12 / Ubuntu; needs the Debian libraries packaging/setup.sh installs)
# The build uses its own virtual environment with a regular (not editable) install of this checkout,
# so that what is frozen is exactly what a user gets; the developer's .venv is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
packaging/setup.sh run >/dev/null        # the Debian libraries Qt needs at build and at run time
work=build/pyinstaller
rm -rf "$work/venv" dist/wardwatch
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q . "pyinstaller==6.22.3"
"$work/venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath "$work/work" packaging/pyinstaller/wardwatch.spec
cp packaging/wardwatch.desktop packaging/wardwatch.svg packaging/install.sh packaging/uninstall.sh dist/wardwatch/
mkdir -p dist/wardwatch/systemd && cp packaging/systemd/wardwatch.service dist/wardwatch/systemd/
end=$(date +%s)
echo "built dist/wardwatch in $((end - start)) s, $(du -sh dist/wardwatch | cut -f1)"
