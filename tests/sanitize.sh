#!/usr/bin/env bash
# The client suites (broker, controller, fjordctl) against ASan+UBSan builds of fjord,
# fjord-quorum and fjordctl (the asan preset). Fails on any sanitizer report, which goes to
# build-asan/reports/ (the brokers' own logs are deleted with their test directories).
# Not part of `make test`: the sanitized build takes about 20 minutes on 2 cores.
# Left out: the one test that measures RSS (ASan's quarantine keeps freed memory), and
# the one that takes the node's last file descriptors: UBSan's vptr check asks whether
# the vtable is readable with a pipe(2) (sanitizer_common's IsAccessibleMemoryRange),
# which fails with EMFILE there, so it reports "invalid vptr" for sound objects and
# stops the node (7 of 12 runs on 2026-12-05; the release build, 0 of 12).
set -uo pipefail
cd "$(dirname "$0")/.."
cmake --preset asan >/dev/null
cmake --build --preset asan -j "${JOBS:-$(nproc)}" --target fjord fjord-quorum fjordctl || exit 1
reports=$PWD/build-asan/reports
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS=log_path=$reports/asan:detect_leaks=0
export UBSAN_OPTIONS=log_path=$reports/ubsan:print_stacktrace=1
export FJORD_BIN=$PWD/build-asan/bin/fjord FJORDCTL_BIN=$PWD/build-asan/bin/fjordctl FJORD_BIN_DIR=$PWD/build-asan/bin
status=0
for suite in tests/broker tests/controller tests/fjordctl; do  # one run each: each has its conftest
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$suite" -k "not does_not_keep_the_buffer_of_one_large_request and not out_of_file_descriptors" ||
    status=1
done
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:" && head -n 40 "$reports"/* && exit 1
fi
exit $status
