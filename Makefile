# dmirror: top-level build.
#
#   make                 module (against KDIR) + analyzer + workload
#   make deps            install what the project needs (Debian 12), resolve
#                        the kernel versions
#   make kernels         build the cached test kernels (6.1, 6.12, newest)
#   make check           host tests, then the guest suite on every kernel
#                        (and on the newest one's debug build)
#   make check-all       the same with the debug build of every kernel and
#                        what make check leaves out (tests/check),
#                        then make check-cross
#   make check-cross     dmirror on arm64 with 16 KiB pages: cross-built
#                        kernel and module, a guest under qemu-system-aarch64
#   make demo            record + report a migration cycle, then each bug
#   make bench           benchmarks (docs/performance.md)
#   make install         analyzer and its man page (PREFIX, DESTDIR)
#   make deb             dmirror-dkms and dmirror-analyzer .debs in build/deb/
#
# KDIR defaults to the cached newest test kernel; give KDIR=/lib/modules/$(uname -r)/build
# to build the module for the running kernel.

KERNELS ?= 6.1 6.12 newest
PREFIX ?= /usr/local
CC ?= gcc

KDIR ?= $(shell scripts/kernel dir newest 2>/dev/null)

BIN := build/bin
# Static test and benchmark programs for the guest, one binary per source.
PROGS := $(patsubst tests/guest/progs/%.c,$(BIN)/%,$(wildcard tests/guest/progs/*.c)) \
	$(patsubst bench/%.c,$(BIN)/%,$(wildcard bench/*.c))
PROG_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -static -Iinclude

.PHONY: all module analyzer workload guest-bins deps kernels check check-host \
	check-all check-guest check-cross demo bench install deb clean

all: module analyzer workload

module:
	@[ -n "$(KDIR)" ] || { echo "no KDIR: run 'make kernels' or give KDIR=/lib/modules/\$$(uname -r)/build" >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/module modules

analyzer:
	$(MAKE) -C analyzer

workload:
	$(MAKE) -C workload

# Everything the guest runs that is built on the host.
guest-bins: analyzer workload $(PROGS) $(BIN)/tc-iterate
	@mkdir -p $(BIN)
	@# -C: a file already the same is left alone, so a guest run packing
	@# build/bin while another one starts never reads a half-copied file
	install -C -m 0755 analyzer/analyzer workload/workload $(BIN)/

$(BIN)/%: tests/guest/progs/%.c include/*.h
	@mkdir -p $(BIN)
	$(CC) $(PROG_CFLAGS) -o $@ $< -lpthread

$(BIN)/%: bench/%.c bench/*.h include/*.h
	@mkdir -p $(BIN)
	$(CC) $(PROG_CFLAGS) -o $@ $< -lpthread

# The bench's baseline for analyzer report: libtracecmd's own loop, linked
# against the host's libtracecmd (the guest gets the library with it).
$(BIN)/tc-iterate: bench/baseline/tc_iterate.c
	@mkdir -p $(BIN)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $(shell pkg-config --cflags libtracecmd) \
		-o $@ $< $(shell pkg-config --libs libtracecmd)

deps:
	scripts/setup

kernels:
	for k in $(KERNELS); do scripts/kernel build $$k default || exit 1; done

# The whole suite; its last line is "N passed, N failed".
check:
	tests/check $(KERNELS)

# The cross build takes a while the first time (its kernel is cached like
# the others): not in make check.  Both parts run; either failing fails.
check-all:
	CHECK_ALL=1 DEBUG_KERNELS=all tests/check $(KERNELS); s=$$?; tests/cross/run || s=1; exit $$s

check-cross:
	tests/cross/run

check-host:
	tests/check --host-only

check-guest:
	tests/check --guest-only $(KERNELS)

demo:
	scripts/demo

bench:
	bench/run

deb:
	scripts/deb

install: analyzer
	$(MAKE) -C analyzer install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean:
	rm -rf build
	$(MAKE) -C analyzer clean
	$(MAKE) -C workload clean
	[ -z "$(KDIR)" ] || $(MAKE) -C $(KDIR) M=$(CURDIR)/module clean
