# eniroute: the single entry point. `make demo` and `make test` are the two commands a new user runs.
SHELL := /bin/bash
SWIFT ?= swift
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release
DEB_ROOT := .build/deb-root
## The test variant of the release binary: the same sources and flags as the shipped build plus
## ENIROUTE_ACCEPT_VETH, so that it accepts the veth links the namespace worlds stand ENIs in with
## (the shipped binary never does: ENILinkPolicy). Its own scratch directory.
TESTING_SCRATCH := .build/testing
TESTING_BIN := $(TESTING_SCRATCH)/release
TESTING_ENV := ENIROUTE=$(TESTING_BIN)/eniroute ENIROUTE_IMDS_SIM=$(TESTING_BIN)/eniroute-imds-sim

.PHONY: all build release testing testing-eniroute deps test unit integration demo lint format clean deb package-test

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

## The test variant (see TESTING_SCRATCH): what the scenarios, the fault matrix, the demo and the
## benchmark run. Never packaged.
## `testing-eniroute` builds only eniroute (make test runs it with the debug simulator).
TESTING_BUILD := $(SWIFT) build -c release --static-swift-stdlib --scratch-path $(TESTING_SCRATCH) -Xswiftc -DENIROUTE_ACCEPT_VETH
testing: testing-eniroute
	$(TESTING_BUILD) --product eniroute-imds-sim

testing-eniroute:
	$(TESTING_BUILD) --product eniroute

## Everything (root; networking only in private namespaces): make lint, unit tests (debug build),
## the .deb, the namespace integration scenarios and the fault matrix against the test variant of
## the release build (an optimiser bug once showed only in release builds; the variant differs from
## the binary in the .deb only in accepting veth links), the fuzz corpora replayed, then the package
## checks (which run the .deb's own binary, and check that it refuses a veth).
test: deps build deb testing-eniroute
	$(MAKE) --no-print-directory lint
	$(SWIFT) test
	ENIROUTE=$(TESTING_BIN)/eniroute ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/integration/run.sh
	ENIROUTE=$(TESTING_BIN)/eniroute ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/faults/run.sh
	fuzz/replay.sh
	ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/package/run.sh

unit:
	$(SWIFT) test

integration: deps testing
	$(TESTING_ENV) tests/integration/run.sh $(FILTER)

## The main job on its embedded default: a two-ENI instance in private namespaces, before and after.
demo: deps testing
	$(TESTING_ENV) scripts/demo.sh

## The Debian package: .build/deb/eniroute_<version>_<arch>.deb (dpkg-buildpackage -b, debhelper).
## ARCH=arm64: cross-built with Debian's swiftlang in a cached sid chroot against a Debian 12
## arm64 sysroot (packaging/cross/; root; ~3 min the first time, then about a minute).
deb: deps
	ENIROUTE_DEB_ARCH=$(ARCH) packaging/build-deb.sh

## Package checks (root): lintian (bookworm's; trixie's in a trixie root cached under
## .build/package-cache/, ~1-2 min the first time), contents, udev rules (udevadm verify, udev 254), man pages vs
## --help, units (systemd-analyze verify/security), install/remove/purge in a bookworm chroot.
package-test: deb
	$(SWIFT) build --product eniroute-imds-sim
	ENIROUTE_IMDS_SIM=$(DEBUG_BIN)/eniroute-imds-sim tests/package/run.sh

## Format lint, and the size limits (no Swift file over 400 lines, no function over 80).
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	scripts/check-size.py Sources Tests

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-*

## Benchmarks (issue 7): eniroute (the test variant of the release build, in .build/testing)
## vs the physical limit and the shell-tool baseline, in private namespaces (root); prints a Markdown table, also written to .build/bench/results.md.
.PHONY: bench
bench: deps
	bench/run.sh

## The end-to-end check (root; QEMU TCG; not part of `make test`; see docs/vm-test.md): the .deb
## on images built like Debian's official EC2 images (cloud-init, netplan, networkd) in a VM that
## looks like EC2: first boot, hot attach/detach, netplan/networkd events under a continuous ping,
## secondary IPs, reboot, upgrade, purge. VM_IMAGE=debian-13 or debian-12 (default: both, one
## after the other), or minimal (networkd alone on bookworm, vm/minimal/run.sh). `make vm-smoke`: the
## check before a release (debian-13: first boot and one hot attach, a few minutes).
## VM_ARCH=arm64: the arm64 package (make deb ARCH=arm64) in an arm64 Debian 13 VM under
## qemu-system-aarch64 (TCG): the minimal image's steps, then the namespace scenarios and the kernel
## and process faults with the arm64 test variant (vm/minimal/run.sh arm64, docs/arm64.md); with
## VM_IMAGE=debian-12 on bookworm arm64.
VM_IMAGE ?=
VM_ARCH ?= amd64
.PHONY: vm-test vm-smoke deb-arm64
ifeq ($(VM_ARCH),arm64)
vm-test: deb-arm64 release
	ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim VM_ARCH=arm64 vm/test.sh $(VM_IMAGE)
else
vm-test: deb release testing-eniroute
	ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim ENIROUTE_TESTING=$(TESTING_BIN)/eniroute vm/test.sh $(VM_IMAGE)
endif

deb-arm64: deps
	ENIROUTE_DEB_ARCH=arm64 packaging/build-deb.sh

vm-smoke: deb release
	ENIROUTE_IMDS_SIM=$(RELEASE_BIN)/eniroute-imds-sim vm/test.sh debian-13 smoke

## Fault matrix (issue 6, root; private namespaces only): IMDS, kernel and process faults against
## the test variant of the release binary; prints ok/FAIL per case and "faults: N passed, N failed", and writes the
## table to .build/faults/results.md. A few minutes.
.PHONY: faults fuzz fuzz-replay
faults: deps testing
	$(TESTING_ENV) tests/faults/run.sh $(FILTER)

## libFuzzer targets (swiftc -sanitize=fuzzer,address, built into .build/fuzz/): each runs
## FUZZ_SECONDS (default 60) with one job from fuzz/corpus/<target>/; new coverage is merged back
## and every run is added to fuzz/ledger.tsv. `fuzz-replay` replays the corpora once (seconds).
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

fuzz-replay:
	fuzz/replay.sh
