#!/usr/bin/env bash
# The project's test command (README.md and .ci/run call exactly this).
#
# 1. Creates a virtualenv with the clouds' official Python SDKs, pinned in
#    tests/interop/*/requirements.txt (re-installed only when those files change).
# 2. Runs the whole Rust test suite with IMAGESHARE_INTEROP_PYTHON pointing at it, so the
#    interop tests drive the emulator with each cloud's own SDK.
# 3. Runs every example in examples/ with the clouds' credential variables unset, so each
#    runs against its embedded emulator (an example exits non-zero when anything is off).
# 4. Builds the Python package python/ (imageshare-emulator: the binary wheel, maturin),
#    installs it in a fresh virtualenv and runs its pytest suite (tests/python_package.sh).
# 5. Runs the benchmarks in quick mode (small sizes), so they cannot rot: signing, signing
#    against the official SDKs' own signing functions (signatures must match), client
#    overhead against the official SDKs on the emulator, and the emulator against
#    moto_server (start-up and requests/s, loose 10x floor). Full sizes: see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${IMAGESHARE_VENV:-target/interop-venv}"
shopt -s nullglob
reqs=(tests/interop/*/requirements.txt)
if [ ${#reqs[@]} -gt 0 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  stamp="$venv/.requirements.sha256"
  sum=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$sum" ]; then
    args=()
    for r in "${reqs[@]}"; do args+=(-r "$r"); done
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}"
    echo "$sum" > "$stamp"
  fi
  IMAGESHARE_INTEROP_PYTHON="$(cd "$venv" && pwd)/bin/python"
  export IMAGESHARE_INTEROP_PYTHON
fi

# The clouds' official Node.js SDKs (tests/interop/node/package.json, exact versions),
# installed into target/interop-node when that file changes; the emulator's interop_node
# tests run them. Without node and npm those tests say they are skipped.
node_dir="${IMAGESHARE_NODE_DIR:-target/interop-node}"
if [ -f tests/interop/node/package.json ]; then
  if command -v node >/dev/null && command -v npm >/dev/null; then
    mkdir -p "$node_dir"
    stamp="$node_dir/.package.sha256"
    sum=$(sha256sum tests/interop/node/package.json | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$sum" ]; then
      cp tests/interop/node/package.json "$node_dir/package.json"
      (cd "$node_dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
      echo "$sum" > "$stamp"
    fi
    IMAGESHARE_INTEROP_NODE="$(cd "$node_dir" && pwd)"
    export IMAGESHARE_INTEROP_NODE
  else
    echo "== node or npm missing: the Node.js SDK interop tests will be skipped"
  fi
fi

# Tencent's CLI (tests/interop/tccli/requirements-tccli.txt) in its own virtualenv, since it
# pulls the whole tencentcloud-sdk-python with other pins; re-installed only when that file
# changes. The emulator's interop_tccli test runs it; without it that test says it is skipped.
tccli_venv="${IMAGESHARE_TCCLI_VENV:-target/tccli-venv}"
tccli_reqs=tests/interop/tccli/requirements-tccli.txt
if [ -f "$tccli_reqs" ]; then
  [ -x "$tccli_venv/bin/python" ] || python3 -m venv "$tccli_venv"
  stamp="$tccli_venv/.requirements.sha256"
  sum=$(sha256sum "$tccli_reqs" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$sum" ]; then
    if "$tccli_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$tccli_reqs"; then
      echo "$sum" > "$stamp"
    else
      echo "== tccli could not be installed: the tccli interop test will be skipped"
    fi
  fi
  if "$tccli_venv/bin/python" -c 'import tccli.main' 2>/dev/null; then
    IMAGESHARE_INTEROP_TCCLI="$(cd "$tccli_venv" && pwd)/bin/python"
    export IMAGESHARE_INTEROP_TCCLI
  fi
fi

cargo test --workspace --locked "$@"

examples=(examples/*.rs)
if [ ${#examples[@]} -gt 0 ]; then
  cargo build --locked --examples --quiet
  for ex in "${examples[@]}"; do
    name=$(basename "$ex" .rs)
    echo "== example $name"
    env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY \
        -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABACLOUD_ACCESS_KEY_ID -u ALICLOUD_ACCESS_KEY_ID \
        -u ACCESS_KEY_ID -u UCLOUD_PUBLIC_KEY -u UCLOUD_PRIVATE_KEY \
        cargo run --locked --quiet --example "$name"
  done
  echo "== all ${#examples[@]} examples ran"
fi

echo "== python package (python/: wheel, fresh virtualenv, pytest)"
bash tests/python_package.sh

echo "== benchmarks (quick mode)"
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench sign_ratio
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench overhead
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench bulk_floor
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench plan_floor
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench distribute_floor
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench stream_rss
# The emulator against moto_server (installed from PyPI into target/moto-venv by the bench;
# skipped with a note when it cannot be), with the release binary the wheel step built.
emu_bin="${CARGO_TARGET_DIR:-target}/release/imageshare-emulator"
if [ -x "$emu_bin" ]; then
  IMAGESHARE_EMULATOR_BIN="$(cd "$(dirname "$emu_bin")" && pwd)/imageshare-emulator"
  export IMAGESHARE_EMULATOR_BIN
fi
IMAGESHARE_BENCH_QUICK=1 cargo bench --locked --bench emulator_vs_moto
cargo bench --locked --bench signing -- --quick
