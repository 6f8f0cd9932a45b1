# eniroute: the single entry point. `make demo` and `make test` are the two commands a new user runs.
SHELL := /bin/bash
SWIFT ?= swift
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release
DEB_ROOT := .build/deb-root

.PHONY: all build release deps test unit integration demo lint format clean deb package-test

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

## Everything (root; networking only in private namespaces): format lint, unit tests (debug build),
## the .deb, the namespace integration scenarios and the fault matrix against the eniroute binary
## inside that .deb (the release build that ships: an optimiser bug once showed only there), the
## fuzz corpora replayed, then the package checks.
test: deps build deb
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	$(SWIFT) test
	rm -rf $(DEB_ROOT) && dpkg-deb -x $$(ls .build/deb/eniroute_*.deb | head -n 1) $(DEB_ROOT)
	ENIROUTE=$(DEB_ROOT)/usr/sbin/eniroute ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/integration/run.sh
	ENIROUTE=$(DEB_ROOT)/usr/sbin/eniroute ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/faults/run.sh
	fuzz/replay.sh
	tests/package/run.sh

unit:
	$(SWIFT) test

integration: deps release
	ENIROUTE=$(RELEASE_BIN)/eniroute ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim tests/integration/run.sh $(FILTER)

## The main job on its embedded default: a two-ENI instance in private namespaces, before and after.
demo: deps release
	ENIROUTE=$(RELEASE_BIN)/eniroute ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim scripts/demo.sh

## The Debian package: .build/deb/eniroute_<version>_<arch>.deb (dpkg-buildpackage -b, debhelper).
deb: deps
	packaging/build-deb.sh

## Package checks (root): lintian (bookworm's; trixie's in a trixie root cached under
## .build/package-cache/, ~1-2 min the first time), contents, udev rules (udevadm verify, udev 254), man pages vs
## --help, units (systemd-analyze verify/security), install/remove/purge in a bookworm chroot.
package-test: deb
	tests/package/run.sh

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-*

## Benchmarks (issue 7): eniroute vs the physical limit and the shell-tool baseline, in private
## namespaces (root); prints a Markdown table, also written to .build/bench/results.md.
.PHONY: bench
bench: deps
	bench/run.sh

## The end-to-end pre-release check (issue 5; root; ~6 min with the image cached; not part of
## `make test`): the .deb in a real Debian VM (QEMU TCG) with NIC hot-plug, udev, systemd, a
## networkd restart and reboots. See docs/vm-test.md.
.PHONY: vm-test
vm-test: deb release
	ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim vm/run.sh

## Fault matrix (issue 6, root; private namespaces only): IMDS, kernel and process faults against
## the release binary; prints ok/FAIL per case and "faults: N passed, N failed", and writes the
## table to .build/faults/results.md. A few minutes.
.PHONY: faults fuzz fuzz-replay
faults: deps release
	ENIROUTE=$(RELEASE_BIN)/eniroute ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim tests/faults/run.sh $(FILTER)

## libFuzzer targets (swiftc -sanitize=fuzzer,address, built into .build/fuzz/): each runs
## FUZZ_SECONDS (default 60) with one job from fuzz/corpus/<target>/; new coverage is merged back
## and every run is added to fuzz/ledger.tsv. `fuzz-replay` replays the corpora once (seconds).
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

fuzz-replay:
	fuzz/replay.sh
