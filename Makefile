# SPDX-License-Identifier: MIT
# A thin wrapper around CMake: `make run` and `make test` work from nothing on
# Debian 12 (as root they install the packages they need; otherwise they print
# the apt-get line). Build trees: build/ (normal), build-asan/ (sanitizers).

RUN_PKGS  := libzmq3-dev libevent-dev libmsgpack-dev libsqlite3-dev libjansson-dev \
             libinih-dev pkg-config cmake build-essential
TEST_PKGS := $(RUN_PKGS) clang libclang-rt-14-dev python3 sqlite3 systemd procps
JOBS      ?= 2
CTEST     := ctest --output-on-failure -j$(JOBS)

.PHONY: all run test test-normal test-asan deps deps-test build build-asan fuzz clean help
.PHONY: fuzz-build fuzz-short eval deb bench deps-bench
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 30
FUZZ_SHORT_TARGETS ?= fuzz_msg fuzz_extract

all: build

help:
	@echo "make run    build and start cloudfactd in the foreground (state in ./var)"
	@echo "make test   build and run every test, normally and under ASan+UBSan"
	@echo "make build  build into build/ (binaries in build/bin/)"
	@echo "make fuzz   run the libFuzzer targets (FUZZ_SECONDS each)"
	@echo "make eval   score \`cloudfact extract\` on the shared corpus, tests/corpus and tests/corpus-fresh"
	@echo "make deb    build the Debian package into build-deb/ and inspect it"
	@echo "make bench  benchmark against the limit and the peers (bench/README.md)"
	@echo "make clean  remove the build trees"

deps:
	@tools/ensure-packages $(RUN_PKGS)

deps-test:
	@tools/ensure-packages $(TEST_PKGS)

# The stamp of a configured tree is its Makefile, which CMake writes only when
# configuring succeeds (CMakeCache.txt is written even when it fails, e.g. before
# the packages were installed).
build/Makefile:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps build/Makefile
	cmake --build build -j$(JOBS)

build-asan/Makefile:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCF_SANITIZE=ON

build-asan: deps-test build-asan/Makefile
	cmake --build build-asan -j$(JOBS)

run: build
	@echo "cloudfactd: state in ./var; Ctrl-C stops it cleanly"
	exec build/bin/cloudfactd --state-dir var

test-normal: deps-test build
	cd build && $(CTEST)

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST)

test: test-normal test-asan fuzz-short

# Coverage-guided fuzzing with libFuzzer (clang): each target for FUZZ_SECONDS,
# growing tests/fuzz/corpus/<target>/ (commit new inputs that found bugs).
fuzz: fuzz-build
	for t in fuzz_msg fuzz_extract fuzz_config; do \
	    build-fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$t || exit 1; \
	done

fuzz-build: deps-test
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCF_FUZZ=ON \
	    -DBUILD_TESTING=ON
	cmake --build build-fuzz -j$(JOBS) --target fuzz_msg fuzz_extract fuzz_config

# The bounded run inside `make test`: FUZZ_SHORT_SECONDS per target. New inputs go to a
# temporary first corpus directory; the committed corpus is only read. A crash leaves its
# input in build-fuzz/ (crash-*, timeout-*) and fails the run.
fuzz-short: fuzz-build
	@tmp=$$(mktemp -d) || exit 1; \
	for t in $(FUZZ_SHORT_TARGETS); do \
	    echo "fuzz: $$t for $(FUZZ_SHORT_SECONDS) s"; \
	    mkdir -p $$tmp/$$t; \
	    build-fuzz/bin/$$t -max_total_time=$(FUZZ_SHORT_SECONDS) -timeout=25 \
	        -artifact_prefix=build-fuzz/$$t- $$tmp/$$t tests/fuzz/corpus/$$t \
	        >$$tmp/$$t.log 2>&1 || { tail -40 $$tmp/$$t.log; rm -rf $$tmp; exit 1; }; \
	    tail -1 $$tmp/$$t.log; \
	done; \
	rm -rf $$tmp

# Extraction quality (issue 3): per-type P/R/F1 on ../shared/corpus (CF_SHARED_DIR) and
# tests/corpus, scored by the shared score-facts tool.
eval: build
	@tools/ensure-packages python3
	tools/eval --bin build/bin

# The Debian package (prefix /usr): cpack -G DEB, checked with dpkg-deb -c/-I.
deb: deps
	tests/install/check-deb.sh $(CURDIR) $(CURDIR)/build-deb

# The benchmark (issue 7, bench/README.md): Release build in build-release/, results in
# build/bench/results.json. Never part of `make test`.
BENCH_PKGS := $(RUN_PKGS) redis-server python3-zmq python3-msgpack procps
BENCH_ARGS ?=

deps-bench:
	@tools/ensure-packages $(BENCH_PKGS)

bench: deps-bench
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCF_BENCH=ON \
	    -DBUILD_TESTING=OFF
	cmake --build build-release -j$(JOBS)
	/usr/bin/python3 bench/run.py --bin build-release/bin --out build/bench $(BENCH_ARGS)

clean:
	rm -rf build build-asan build-fuzz build-deb build-release
