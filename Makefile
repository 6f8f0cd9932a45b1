# eniroute: the single entry point. `make demo` and `make test` are the two commands a new user runs.
SHELL := /bin/bash
SWIFT ?= swift
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release

.PHONY: all build release deps test unit integration demo lint format clean

all: build

deps:
	@scripts/install-deps.sh

## Debug build of everything (the binaries the tests run).
build:
	$(SWIFT) build

## The shipping binary: static Swift stdlib, needs only libc, libstdc++, libgcc.
release:
	$(SWIFT) build -c release --static-swift-stdlib --product eniroute
	$(SWIFT) build -c release --static-swift-stdlib --product eniroute-imds-sim

## Everything: unit tests, then the namespace integration scenarios (root; private namespaces only).
test: deps build
	$(SWIFT) test
	ENIROUTE=$(DEBUG_BIN)/eniroute ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/integration/run.sh

unit:
	$(SWIFT) test

integration: deps build
	ENIROUTE=$(DEBUG_BIN)/eniroute ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/integration/run.sh $(FILTER)

## The main job on its embedded default: a two-ENI instance in private namespaces, before and after.
demo: deps release
	ENIROUTE=$(RELEASE_BIN)/eniroute ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim scripts/demo.sh

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-*
