# Almanac: the two commands a new user types are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: run test build build-dev deps deps-test npm format tidy clean crash-soak fuzz

## make run: install what is missing, build a release binary, serve on 127.0.0.1:8000 (data/).
run: build
	./build/almanac serve

## make build: build/almanac (Release).
build: deps
	@cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target almanac
	@ln -sf release/almanac build/almanac

## make test: install what is missing, build with ASan+UBSan, run every test through CTest.
## The release binary is built too, so that `make run` cannot break unnoticed (-O2 warns more).
test: deps-test npm
	@cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS)
	@cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target almanac
	@# Fuzz smoke runs (clang 14, libFuzzer + ASan + UBSan; 30 s per target) and the concurrency
	@# subset under ThreadSanitizer. `make fuzz` runs the fuzzers longer.
	@cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	ctest --preset fuzz -j $(JOBS)
	@cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

deps:
	@tools/install-deps.sh run

deps-test:
	@tools/install-deps.sh test

# npm packages are pinned in package.json and package-lock.json; reinstalled when the lock changes.
npm: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy:
	@cmake --preset dev >/dev/null
	clang-tidy -p build/dev --quiet $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build

## make bench: release binary, micro benchmarks (bench/micro, Google Benchmark), the load benchmark
## against an nginx reference (bench/run.py), then its scale run (1,000 vs 1,000,000 events stored,
## bench/run.py --scale, which takes the same BENCH_ARGS). Options: BENCH_ARGS="--duration 5 --rounds 2",
## MICRO_ARGS="--benchmark_filter=Verify". See bench/README.md.
.PHONY: bench
BENCH_ARGS ?=
MICRO_ARGS ?=
bench:
	@tools/install-deps.sh libbenchmark-dev
	@$(MAKE) --no-print-directory build
	@cmake --preset release -DALMANAC_BENCH=ON >/dev/null
	cmake --build --preset release -j $(JOBS) --target micro_benches
	@set -e; for source in bench/micro/*_bench.cpp; do \
	  [[ -e "$$source" ]] || continue; \
	  name=$$(basename "$$source" .cpp); \
	  echo "== micro: $$name"; \
	  build/release/bench/$$name $(MICRO_ARGS); \
	done
	/usr/bin/python3 bench/run.py $(BENCH_ARGS)
	/usr/bin/python3 bench/run.py --scale $(BENCH_ARGS)

## make crash-soak: the crash-safety proof (tests/reliability/test_crash_safety.py) for CYCLES
## SIGKILL/restart cycles (default 200; `make test` runs 20) on the ASan+UBSan build.
CYCLES ?= 200
crash-soak: deps-test
	@cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS) --target almanac
	cd tests/reliability && ALMANAC_BIN=$(CURDIR)/build/dev/almanac ALMANAC_CRASH_CYCLES=$(CYCLES) \
	  PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest -v test_crash_safety

## make soak: `make crash-soak` (200 kill -9 cycles), then tools/soak.py on the release binary:
## mixed traffic (reads, writes, logins, history) at half of the measured capacity for
## SOAK_DURATION (30m) against a fresh server; fails on any error, RSS growth over 10 % after the
## warm-up, descriptor growth or an unbounded WAL.
## SOAK_ARGS adds options (e.g. SOAK_ARGS="--rate 300"); see tools/soak.py --help.
.PHONY: soak
SOAK_DURATION ?= 30m
SOAK_ARGS ?=
soak: build crash-soak
	/usr/bin/python3 tools/soak.py --binary build/release/almanac --duration $(SOAK_DURATION) $(SOAK_ARGS)

## make fuzz: the libFuzzer targets of fuzz/ for FUZZ_SECONDS each (default 600), two at a time.
## A crash is left in build/fuzz/fuzz/work/<target>/crash-*; see fuzz/run.sh.
FUZZ_SECONDS ?= 600
fuzz: deps-test
	@cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --preset fuzz -j $(JOBS) --timeout $$(( $(FUZZ_SECONDS) + 600 ))
