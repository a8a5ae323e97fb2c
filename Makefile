# SPDX-License-Identifier: GPL-2.0
#
# vivid-expbuf: build, check and demo targets. See README.md.
#
#   make                   module for every installed kernel, tests, utils
#   make modules KVER=V    module for kernel V only
#   make tests utils       userspace test programs and utilities
#   make lint              checkpatch --strict on the kernel sources
#   make check             everything, in QEMU, on the 6.1 and 6.12 kernels
#   make demo              capture one frame to out/demo.png
#   make bench             zero-copy pipeline CPU cost, in QEMU, to out/bench.txt
#   make fuzz              vx-fuzz and trinity on the 6.1 kernel, in QEMU
#   make debug-check       the debug-kernel tier: detectors, fuzz, attacks
#
# Every output goes to build/ and out/.

SHELL := /bin/bash
CC ?= gcc
USER_CFLAGS := -O2 -Wall -Wextra -Werror
USER_LDLIBS :=

KVERS := $(shell scripts/kvers.sh 2>/dev/null)
KVER ?= $(KVERS)

TEST_LIBS := $(wildcard tests/*-lib.c)
TEST_HDRS := $(wildcard tests/*.h)
TEST_SRCS := $(filter-out $(TEST_LIBS),$(wildcard tests/*.c))
TEST_BINS := $(patsubst tests/%.c,build/tests/%,$(TEST_SRCS))

UTIL_LIBS := $(wildcard utils/*-lib.c)
UTIL_HDRS := $(wildcard utils/*.h)
UTIL_SRCS := $(filter-out $(UTIL_LIBS),$(wildcard utils/*.c))
UTIL_BINS := $(patsubst utils/%.c,build/utils/%,$(UTIL_SRCS))

.PHONY: all deps modules tests utils lint check demo bench fuzz debug-check \
	clean

all: modules tests utils

deps:
	@scripts/deps.sh

modules: deps
	@test -n "$(strip $(KVER))" || \
		{ echo "no kernel with /boot/vmlinuz-V and /lib/modules/V/build"; exit 1; }
	@for k in $(KVER); do scripts/build-module.sh $$k || exit 1; done

tests: $(TEST_BINS)

utils: $(UTIL_BINS)

build/tests/%: tests/%.c $(TEST_LIBS) $(TEST_HDRS)
	@mkdir -p $(@D)
	@rm -f $@
	@echo "  CC      $@"
	@$(CC) $(USER_CFLAGS) -o $@ $< $(TEST_LIBS) $(USER_LDLIBS)

build/utils/%: utils/%.c $(UTIL_LIBS) $(UTIL_HDRS)
	@mkdir -p $(@D)
	@rm -f $@
	@echo "  CC      $@"
	@$(CC) $(USER_CFLAGS) -o $@ $< $(UTIL_LIBS) $(USER_LDLIBS)

# test-race runs threads.
build/tests/test-race: USER_LDLIBS += -pthread

# vx-fuzz runs threads.
build/utils/vx-fuzz: USER_LDLIBS += -pthread

# libv4l2-expbuf is a libv4l2 application.
build/utils/libv4l2-expbuf: USER_LDLIBS += -lv4l2

lint: deps
	@scripts/lint.sh

check: deps
	@scripts/check.sh

demo: deps
	@scripts/demo.sh

bench: deps
	@scripts/bench.sh

fuzz: deps
	@scripts/fuzz.sh

debug-check: deps
	@scripts/debug-check.sh

clean:
	rm -rf build out
