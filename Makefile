# The two commands every newcomer runs: `make run` and `make test`.
# Both install what is missing (scripts/install-deps.sh), then build with CMake+Ninja.
.PHONY: deps build run test bench fuzz sim sanitize fmt clean

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
DATA_DIR ?= $(CURDIR)/var
SEEDS ?= 20000

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# A single combined controller+broker on localhost:9092, data under ./var/.
run: build
	@mkdir -p $(DATA_DIR)
	./build/bin/fjord config/server.properties --override log.dirs=$(DATA_DIR)/data

# The whole suite through ctest; ends in ctest's summary line.
test: build
	@cd build && ctest --output-on-failure -j $(JOBS) --timeout 1800

bench: build
	@FJORD_DEPS_BENCH=1 bash scripts/install-deps.sh
	@bash bench/run-all.sh

# Runs each fuzzer (request decoder; on-disk record decoders; metadata state machine) for FUZZ_SECONDS (default 60), seeded with the
# golden client captures.
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target request_decoder_fuzzer record_decoders_fuzzer metadata_fuzzer
	@bash fuzz/run.sh build-fuzz/bin/request_decoder_fuzzer $(FUZZ_SECONDS)
	@bash fuzz/run.sh build-fuzz/bin/record_decoders_fuzzer $(FUZZ_SECONDS)
	@bash fuzz/run.sh build-fuzz/bin/metadata_fuzzer $(FUZZ_SECONDS)

# The Raft simulation over SEEDS seeds (make test runs 2,000); a failing seed prints how
# to replay it alone.
sim: build
	@FJORD_SIM_SEEDS=$(SEEDS) ./build/bin/raft_simulation_test

# The broker, controller and fjordctl client suites against ASan+UBSan builds; fails on
# any sanitizer report (tests/sanitize.sh). Slow: a second, sanitized build.
sanitize: deps
	@bash tests/sanitize.sh

fmt:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-debug build-asan build-fuzz
