#!/usr/bin/env bash
# Installs what Fjord needs to build, test and benchmark, from Debian 12 packages and
# npm. Idempotent: packages already present are not touched; npm ci runs only when the
# lockfile changed. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3 ccache mold
  clang libclang-rt-14-dev clang-format
  libboost1.81-dev libabsl-dev libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc librocksdb-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev liburing-dev
  zlib1g-dev libsnappy-dev liblz4-dev libxxhash-dev libzstd-dev librdkafka-dev
)
TEST_PACKAGES=(kcat python3-confluent-kafka python3-kafka python3-pytest iproute2 procps)
BENCH_PACKAGES=(fio iperf3 gnuplot-nox)

want=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
if [[ "${FJORD_DEPS_BENCH:-0}" == 1 ]]; then want+=("${BENCH_PACKAGES[@]}"); fi
# Node.js: take Debian's unless a node (with its npm) is already installed.
command -v node >/dev/null || want+=(nodejs)
command -v npm >/dev/null || want+=(npm)

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node test clients, pinned by the committed lockfile.
if [[ -f tests/clients/package-lock.json ]]; then
  stamp=tests/clients/node_modules/.fjord-lock
  if [[ ! -f $stamp ]] || ! cmp -s tests/clients/package-lock.json "$stamp"; then
    echo "install-deps: npm ci (tests/clients)"
    (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/clients/package-lock.json "$stamp"
  fi
fi
