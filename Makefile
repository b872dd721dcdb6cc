# Workshop for the intel-iommu patch series: see README.md.
#
# Everything is built under build/; downloads are cached in ~/.cache/qemu-vtd.

SHELL := /bin/bash
ROOT := $(CURDIR)
BUILD := $(ROOT)/build
CACHE ?= $(HOME)/.cache/qemu-vtd
PRISTINE := $(BUILD)/pristine
SRC := $(BUILD)/src
QEMU_BUILD := $(BUILD)/qemu
STOCK_TREE := $(BUILD)/stock-tree
STOCK_BUILD := $(BUILD)/stock
ASAN_BUILD := $(BUILD)/asan
FUZZ_BUILD := $(BUILD)/fuzz
DOCS_BUILD := $(BUILD)/docs
QEMU := $(QEMU_BUILD)/qemu-system-x86_64
STOCK := $(STOCK_BUILD)/qemu-system-x86_64
GUEST := $(BUILD)/guest
W := $(ROOT)/workshop

# Targets our build needs beyond the emulator: the qtests we run.
QTEST_TARGETS := tests/qtest/intel-iommu-test

.PHONY: help deps base tree build stock guest run check series bench bench-quick \
        check-series check-asan check-full fuzz docs clean distclean

help:
	@echo "make run     set everything up, boot the test guest on our intel-iommu"
	@echo "make check   set everything up, run qtests, stock comparison,"
	@echo "             guest tests and the series check"
	@echo "make series  write the patch series to build/series/"
	@echo "make stock   build the unmodified base (upstream intel-iommu)"
	@echo "make build   build our QEMU only;  make guest  build the test guests"
	@echo "make bench   instruction counts vs stock and no IOMMU (bench-quick: <5 min)"
	@echo "make check-asan  qtests and a guest on an AddressSanitizer+UBSan build"
	@echo "make check-full  make check, then the virtio-net guest tests 20 times each"
	@echo "make fuzz    libFuzzer on the intel-iommu generic-fuzz configs (VTD_FUZZ_SECONDS)"
	@echo "make docs    QEMU's manuals with our pages (build/docs/docs/manual)"

deps:
	@$(W)/deps.sh

base: deps
	@$(W)/fetch-base.sh $(CACHE) $(PRISTINE)

tree: base
	@$(W)/prepare-tree.sh $(ROOT) $(PRISTINE) $(SRC)

build: tree
	@$(W)/build.sh $(SRC) $(QEMU_BUILD) qemu-system-x86_64 $(QTEST_TARGETS)

# Stock is built in stock-tree/src and stock-tree/qemu, the layout of src/
# and qemu/, so that ccache sees the same relative compile commands and
# serves every file the series leaves alone from our build's objects (a
# cold make check builds QEMU once and a half, not twice).  The tree is
# hard links to the pristine base; stock/ points to the build directory.
stock: base
	@if ! cmp -s $(PRISTINE)/.base-stamp $(STOCK_TREE)/src/.base-stamp; then \
		rm -rf $(STOCK_TREE)/src && mkdir -p $(STOCK_TREE) && \
		cp -al $(PRISTINE) $(STOCK_TREE)/src; fi
	@$(W)/build.sh $(STOCK_TREE)/src $(STOCK_TREE)/qemu qemu-system-x86_64
	@[ -L $(STOCK_BUILD) ] || { rm -rf $(STOCK_BUILD) && ln -s stock-tree/qemu $(STOCK_BUILD); }

guest: deps
	@$(W)/guest/build-guest.sh $(GUEST)

run: build guest
	@$(W)/run.sh $(QEMU)

series: tree
	@$(W)/make-series.py $(ROOT) $(PRISTINE) $(BUILD)/series-work $(BUILD)/series

check-series: series
	@$(W)/check-series.sh $(BUILD)/series $(BUILD)/series-work $(SRC)

check: build stock guest
	@$(W)/check.sh

# make check, then the tests whose failures would show only now and then,
# repeated: every virtio-net line, with the device model and with a
# vhost-user back-end (strict and lazy, with and without ATS and the
# device IOTLB), VTD_REPEAT times (default 20).
check-full: check
	@$(W)/repeat-guest-tests.sh $(QEMU) net-virtio,vhost-iotlb $${VTD_REPEAT:-20}

# Our QEMU built with AddressSanitizer and UndefinedBehaviorSanitizer, its
# qtests and a guest run on it (build/asan, a build of its own).
check-asan: tree guest
	@VTD_CONFIGURE_EXTRA="--enable-asan --enable-ubsan" \
		$(W)/build.sh $(SRC) $(ASAN_BUILD) qemu-system-x86_64 $(QTEST_TARGETS)
	@$(W)/check-asan.sh $(ASAN_BUILD)

# QEMU's generic-fuzz target built with clang, libFuzzer, ASan and UBSan
# (build/fuzz, a build of its own), run on the intel-iommu configurations
# for VTD_FUZZ_SECONDS each (default 300).
fuzz: tree
	@VTD_EXTRA_PKGS="clang libclang-rt-14-dev" $(W)/deps.sh
	@VTD_CONFIGURE_EXTRA="--cc=clang --cxx=clang++ --enable-fuzzing --enable-asan --enable-ubsan" \
		$(W)/build.sh $(SRC) $(FUZZ_BUILD) qemu-fuzz-x86_64
	@$(W)/fuzz.sh $(FUZZ_BUILD)

# QEMU's manuals, with docs/system/devices/intel-iommu.rst and
# docs/devel/intel-iommu.rst, through QEMU's own sphinx setup.
docs: tree
	@VTD_EXTRA_PKGS="python3-sphinx python3-sphinx-rtd-theme" $(W)/deps.sh
	@VTD_CONFIGURE_EXTRA="--enable-docs" $(W)/build.sh $(SRC) $(DOCS_BUILD) html
	@test -s $(DOCS_BUILD)/docs/manual/system/devices/intel-iommu.html
	@test -s $(DOCS_BUILD)/docs/manual/devel/intel-iommu.html
	@echo "docs: $(DOCS_BUILD)/docs/manual/system/devices/intel-iommu.html"

# Benchmarks against stock upstream and no IOMMU (callgrind); results in
# build/bench-results, not committed.
# make bench adds the guest I/O and network rates (guest-bench.py).
bench bench-quick: build stock guest
	@VTD_EXTRA_PKGS="valgrind gnuplot-nox" $(W)/deps.sh
	@$(W)/bench/bench.py $(if $(filter bench-quick,$@),--quick) \
		--out $(BUILD)/bench-results $(QEMU) $(STOCK_BUILD)/qemu-system-x86_64
	@$(if $(filter bench,$@),$(W)/bench/guest-bench.py \
		--out $(BUILD)/bench-results $(QEMU) $(STOCK_BUILD)/qemu-system-x86_64)

clean:
	rm -rf $(SRC) $(QEMU_BUILD) $(BUILD)/series $(BUILD)/series-work $(BUILD)/guest-logs

distclean:
	rm -rf $(BUILD)
