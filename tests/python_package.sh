#!/usr/bin/env bash
# The Python package `imageshare-emulator` (python/, #16 item 4), end to end:
#
# 1. builds its binary wheel the way `pip install ./python` does (PEP 517: pip fetches
#    maturin into an isolated build environment, maturin runs `cargo build --release
#    --locked` of crates/imageshare-emulator's binary into the workspace's target
#    directory, so later runs only re-link what changed) and prints how long it took;
# 2. installs the wheel, pytest and the clouds' official Python SDKs (the pins of
#    tests/interop/*/requirements.txt) in a fresh virtualenv under target/;
# 3. runs the package's pytest suite (python/tests) there, through the installed plugin.
#
# tests/run.sh calls it; it can be run alone. Without python3's venv module it says it
# skips.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "== python package: SKIPPED ($python has no venv/ensurepip)"
  exit 0
fi
target="${CARGO_TARGET_DIR:-target}"
out="$target/python-package"
rm -rf "$out"
mkdir -p "$out"
"$python" -m venv "$out/venv"
venv_py="$(cd "$out/venv" && pwd)/bin/python"

start=$(date +%s)
"$venv_py" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --wheel-dir "$out/wheels" ./python
wheel=("$out"/wheels/imageshare_emulator-*.whl)
echo "== python package: built $(basename "${wheel[0]}") in $(( $(date +%s) - start ))s"

reqs=(-r python/tests/requirements.txt)
for r in tests/interop/*/requirements.txt; do reqs+=(-r "$r"); done
"$venv_py" -m pip install --quiet --disable-pip-version-check "${wheel[0]}" "${reqs[@]}"

echo "== python package: pytest python/tests"
(cd python && "$venv_py" -m pytest -q -p no:cacheprovider tests)
