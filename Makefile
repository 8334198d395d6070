# SPDX-License-Identifier: MIT
# vpn-confinement: make, make check, make test, make install, make fuzz, make bench.

PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMDGENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators

# Runtime tools, substituted at build time (a Nix build passes store paths).
WG ?= /usr/bin/wg
WIREGUARD_GO ?= /usr/bin/wireguard-go
HELPER_PATH ?= $(BINDIR)/vpn-confinement
# Where the example port forwarding hooks find curl, sed, tr, grep, mktemp,
# when not on the PATH port-forward gives them (/usr/bin, /bin): a Nix
# build puts store paths here; empty: installed as they are.
HOOK_PATH ?=

BUILD ?= build
CC ?= cc
CLANG ?= clang
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
LDFLAGS ?=
FUZZ_SECONDS ?= 60
# The test runner and the check scripts are bash scripts, run through the
# bash on PATH: a Nix build sandbox has no /bin/bash for their shebangs.
TEST_SHELL ?= bash

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnftables libsystemd 2>/dev/null)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libnftables libsystemd 2>/dev/null)
# libnatpmp (port forwarding): Debian's has no .pc file; a newer one may.
NATPMP_LIBS ?= $(shell $(PKG_CONFIG) --libs natpmp 2>/dev/null || echo -lnatpmp)
DEPS_LIBS += $(NATPMP_LIBS)

PROJECT_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -Wformat=2 -Wvla \
	-D_GNU_SOURCE -Icommon -Ihelpers -Igenerator \
	-DWG_PATH='"$(WG)"' -DWIREGUARD_GO_PATH='"$(WIREGUARD_GO)"' \
	-DHELPER_PATH='"$(HELPER_PATH)"' -DSYSTEMDUNITDIR='"$(SYSTEMDUNITDIR)"'
ifneq ($(WERROR),)
PROJECT_CFLAGS += -Werror
endif
ifneq ($(CI),)
PROJECT_CFLAGS += -Werror
endif
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifneq ($(SANITIZE),)
PROJECT_CFLAGS += $(SAN_FLAGS) -O1
LDFLAGS += $(SAN_FLAGS)
endif

ALL_CFLAGS = $(CFLAGS) $(PROJECT_CFLAGS) $(DEPS_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) -Wl,--as-needed

ifeq ($(V),)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
else
Q :=
quiet =
endif

COMMON_SRC := $(sort $(wildcard common/*.c))
HELPER_SRC := $(sort $(filter-out helpers/main.c,$(wildcard helpers/*.c)))
GENERATOR_SRC := $(sort $(filter-out generator/main.c,$(wildcard generator/*.c)))
UNIT_TEST_SRC := $(sort $(wildcard tests/unit/test-*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
UNIT_TEMPLATES := $(sort $(wildcard units/*.in))
MAN_PAGES := $(sort $(wildcard man/*.[0-9]))
EXAMPLE_HOOKS := $(sort $(wildcard examples/hooks/*-port-hook))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_OBJ := $(call obj,$(COMMON_SRC))
HELPER_OBJ := $(call obj,$(HELPER_SRC))
GENERATOR_OBJ := $(call obj,$(GENERATOR_SRC))

HELPER_BIN := $(BUILD)/vpn-confinement
GENERATOR_BIN := $(BUILD)/vpn-confinement-generator
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TEST_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
UNITS := $(patsubst units/%.in,$(BUILD)/units/%,$(UNIT_TEMPLATES))

.PHONY: all check check-unit check-fuzz check-scripts test test-root test-kernel \
	install fuzz fuzzers bench demo clean
.DEFAULT_GOAL := all
.SECONDARY:

all: $(HELPER_BIN) $(if $(wildcard generator/main.c),$(GENERATOR_BIN)) $(UNITS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call quiet,CC,$<)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(HELPER_BIN): $(BUILD)/obj/helpers/main.o $(HELPER_OBJ) $(COMMON_OBJ)
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS)

$(GENERATOR_BIN): $(BUILD)/obj/generator/main.o $(GENERATOR_OBJ) $(COMMON_OBJ)
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^

# Unit tests link everything but the two main()s.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(HELPER_OBJ) $(GENERATOR_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(call quiet,LD,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS)

$(BUILD)/units/%: units/%.in Makefile
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)sed -e 's|@HELPER_PATH@|$(HELPER_PATH)|g' \
		-e 's|@WG@|$(WG)|g' -e 's|@WIREGUARD_GO@|$(WIREGUARD_GO)|g' $< > $@.tmp && mv $@.tmp $@

# libFuzzer harnesses: one clang invocation over the harness and the sources.
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Icommon -Ihelpers -Igenerator $(DEPS_CFLAGS) \
	-DWG_PATH='"$(WG)"' -DWIREGUARD_GO_PATH='"$(WIREGUARD_GO)"' \
	-DHELPER_PATH='"$(HELPER_PATH)"' -DSYSTEMDUNITDIR='"$(SYSTEMDUNITDIR)"' \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(HELPER_SRC) $(GENERATOR_SRC) $(wildcard common/*.h helpers/*.h generator/*.h)
	@mkdir -p $(@D)
	$(call quiet,FUZZ,$@)$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(COMMON_SRC) $(HELPER_SRC) $(GENERATOR_SRC) $(DEPS_LIBS)

fuzzers: $(FUZZERS)

# Every test that needs no root, under ASan and UBSan.
check:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 check-unit check-fuzz check-scripts

check-unit: all $(UNIT_TESTS)
	$(Q)$(TEST_SHELL) tests/run.sh --kind unit $(UNIT_TESTS)

# Replays every seed and every crash reproducer once (no fuzzing).
check-fuzz: $(FUZZERS)
	$(Q)$(TEST_SHELL) tests/run.sh --kind fuzz-replay $(FUZZERS)

check-scripts: all
	$(Q)BUILD=$(BUILD) TEST_SHELL=$(TEST_SHELL) $(TEST_SHELL) tests/run.sh --kind script $(sort $(wildcard tests/*/check-*.sh))

# Tests that need root (network namespaces, nftables, systemd-nspawn, a VM),
# TEST_JOBS at a time: most of them wait (for a handshake, a timeout, a
# guest), so they overlap well. The longest, the VMs of the kernel tier,
# start first; the other VM tests last (run-in-vm.sh runs at most one VM
# per CPU and makes the rest wait).
TEST_JOBS ?= 3
VM_LONG_TEST := tests/vm/test-kernel-integration.sh
ROOT_TESTS := $(wildcard $(VM_LONG_TEST)) \
	$(filter-out tests/vm/%,$(sort $(wildcard tests/*/test-*.sh))) \
	$(filter-out $(VM_LONG_TEST),$(sort $(wildcard tests/vm/test-*.sh)))
test-root: all
	$(Q)BUILD=$(BUILD) tests/run.sh --kind script --jobs $(TEST_JOBS) $(ROOT_TESTS)

# The kernel WireGuard tier alone (a VM; also part of test-root).
test-kernel: all
	$(Q)BUILD=$(BUILD) tests/run.sh --kind script $(sort $(wildcard tests/vm/test-*.sh))

# The README's test command: every tier this machine can run.
test:
	$(Q)$(MAKE) --no-print-directory check
	$(Q)$(MAKE) --no-print-directory test-root

fuzz: $(FUZZERS)
	$(Q)for f in $(FUZZERS); do \
		name=$${f##*/fuzz-}; mkdir -p $(BUILD)/fuzz-corpus/$$name; \
		echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz-crash-$$name- \
			$(BUILD)/fuzz-corpus/$$name tests/fuzz/corpus/$$name || exit 1; \
	done

bench: all
	$(Q)BUILD=$(BUILD) tests/run.sh --kind bench $(sort $(wildcard tests/*/bench-*.sh))

# The main job (README quick start).
demo: all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDGENERATORDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(HELPER_BIN) $(DESTDIR)$(BINDIR)/vpn-confinement
	install -m 0755 $(GENERATOR_BIN) $(DESTDIR)$(SYSTEMDGENERATORDIR)/vpn-confinement-generator
	$(if $(UNITS),install -m 0644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/)
	$(Q)for m in $(MAN_PAGES); do \
		sec=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$sec; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$sec/ || exit 1; \
	done
	install -d $(DESTDIR)$(DATADIR)/vpn-confinement/examples
	$(Q)for h in $(EXAMPLE_HOOKS); do \
		d=$(DESTDIR)$(DATADIR)/vpn-confinement/examples/$${h##*/}; \
		if [ -n "$(HOOK_PATH)" ]; then \
			sed '1a PATH=$(HOOK_PATH)$${PATH:+:$$PATH}' $$h >$$d.tmp && chmod 0755 $$d.tmp && mv $$d.tmp $$d || exit 1; \
		else \
			install -m 0755 $$h $$d || exit 1; \
		fi; \
	done

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
