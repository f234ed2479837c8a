# Almanac: the two commands a new user types are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: run test build build-dev deps deps-test npm format tidy clean

## make run: install what is missing, build a release binary, serve on 127.0.0.1:8000 (data/).
run: build
	./build/almanac serve

## make build: build/almanac (Release).
build: deps
	@cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target almanac
	@ln -sf release/almanac build/almanac

## make test: install what is missing, build with ASan+UBSan, run every test through CTest.
test: deps-test npm
	@cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS)

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
