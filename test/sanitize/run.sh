#!/usr/bin/env bash
# run.sh: npm run test:sanitize: the addon under ASan+UBSan, the helper under UBSan (trap mode), then the tests that feed native code hostile input.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Separate build directories: build/ and addon/helper/build/ (what ships) are not touched.
# Incremental once configured (make tracks the sources); a first run configures and builds.
if [ -f test/sanitize/build/Makefile ]; then
  npx node-gyp build --directory=test/sanitize --silent
else
  npx node-gyp rebuild --directory=test/sanitize --silent
fi
make -s -C addon/helper B=build-sanitize SANITIZE_CFLAGS="-fsanitize=undefined -fsanitize-undefined-trap-on-error"
npm run -s build:ts

libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "test:sanitize: gcc has no libasan.so ($libasan)"; exit 1; }
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

# node itself is not instrumented, so libasan must come first; its own exit-time allocations
# are not ours to report (detect_leaks=0). Each report goes to a file we count below.
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allow_user_segv_handler=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
export NODE_OPTIONS="--require $PWD/dist/test/support/sanitize-preload.js ${NODE_OPTIONS:-}"

tests=(block-readahead broker-native broker-rings broker-drain broker-solo5 broker-tap switch-fair net-switch net-tap
  solo5-tap devices-guest elf-fuzz net-stream-fuzz net-stream-codec)
files=()
for t in "${tests[@]}"; do [ -f "dist/test/$t.test.js" ] && files+=("dist/test/$t.test.js"); done
status=0
npx tap --disable-coverage "${files[@]}" || status=$?

found=$(find "$reports" -type f | wc -l)
if [ "$found" -gt 0 ]; then
  echo "test:sanitize: $found sanitizer report(s):"
  for f in "$reports"/*; do echo "== $f"; cat "$f"; done
  status=1
else
  echo "test:sanitize: no sanitizer reports from ${#files[@]} test files"
fi
exit "$status"
