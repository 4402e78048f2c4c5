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
FUZZ_SECONDS ?= 60

all: build

help:
	@echo "make run    build and start cloudfactd in the foreground (state in ./var)"
	@echo "make test   build and run every test, normally and under ASan+UBSan"
	@echo "make build  build into build/ (binaries in build/bin/)"
	@echo "make fuzz   run the libFuzzer targets (FUZZ_SECONDS each)"
	@echo "make clean  remove the build trees"

deps:
	@tools/ensure-packages $(RUN_PKGS)

deps-test:
	@tools/ensure-packages $(TEST_PKGS)

build/CMakeCache.txt:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps build/CMakeCache.txt
	cmake --build build -j$(JOBS)

build-asan/CMakeCache.txt:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCF_SANITIZE=ON

build-asan: deps-test build-asan/CMakeCache.txt
	cmake --build build-asan -j$(JOBS)

run: build
	@echo "cloudfactd: state in ./var; Ctrl-C stops it cleanly"
	exec build/bin/cloudfactd --state-dir var

test-normal: deps-test build
	cd build && $(CTEST)

test-asan: build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST)

test: test-normal test-asan

# Coverage-guided fuzzing with libFuzzer (clang): each target for FUZZ_SECONDS,
# growing tests/fuzz/corpus/<target>/ (commit new inputs that found bugs).
fuzz: deps-test
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCF_FUZZ=ON \
	    -DBUILD_TESTING=ON
	cmake --build build-fuzz -j$(JOBS) --target fuzz_msg fuzz_extract fuzz_config
	for t in fuzz_msg fuzz_extract fuzz_config; do \
	    build-fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz
