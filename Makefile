# gatehouse - plain Makefile, HAProxy/nginx style.
#
#   make            build build/gatehouse
#   make run        install deps, build, start demo origins + gatehouse
#   make test       deps, build, unit tests, end-to-end tests, then the unit
#                   tests again on an ASan+UBSan build
#   make e2e-asan   the whole end-to-end suite on the ASan+UBSan build
#   make fuzz       a FUZZ_SECONDS (20) run of each fuzz target (libFuzzer)
#                   (CI runs e2e-asan and fuzz after `make test`, apart so
#                   that each stays under 15 minutes)
#   make soak       the heavy end-to-end tests (pytest marker `soak`: 10k
#                   connections, 1 GiB bodies, 3,000-request distributions)
#   make bench      gatehouse vs HAProxy vs nginx (see bench/README.md)
#   make install    build/gatehouse, man pages and the example configuration
#                   under PREFIX (/usr/local), staged under DESTDIR if set;
#                   make uninstall removes them again

CC       ?= gcc
BUILD    ?= build
OPT      ?= -O2
CFLAGS   ?=
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
ALLCFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -Isrc -pthread -MMD -MP $(CFLAGS)
LDLIBS   := -lmodsecurity -lhs -lpcre2-8 -lnghttp2 -lssl -lcrypto -lz -lbrotlienc -lzstd -luring -pthread -lm
PYTHON   := /usr/bin/python3
# -rs lists every skip with its reason; conftest.py fails unexpected ones.
PYTEST   := $(PYTHON) -m pytest -q -rs
# e2e files run on E2E_JOBS pytest-xdist workers (Debian python3-pytest-xdist;
# each test starts its own gatehouse and origins on ephemeral ports).
E2E_JOBS ?= 2
PYTEST_JOBS := $(if $(filter-out 0 1,$(E2E_JOBS)),-n $(E2E_JOBS))
FUZZ_SECONDS ?= 20

LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test unit e2e asan unit-asan e2e-asan soak fuzz bench clean \
	install uninstall

all: $(BUILD)/gatehouse

# Before the first compile: every header there, or a list of the Debian
# packages missing and a pointer to `make deps` (scripts/check-deps.sh).
$(BUILD)/.deps-ok: scripts/check-deps.sh
	@scripts/check-deps.sh $(CC) $(CFLAGS)
	@mkdir -p $(dir $@)
	@touch $@

$(BUILD)/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -c $< -o $@

$(BUILD)/gatehouse: $(LIB_OBJ) $(MAIN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(ALLCFLAGS) -o $@ $^ $(LDLIBS)

# The dashboard page is in the binary (.incbin in dashboard.c): a change to
# it rebuilds that object.
$(BUILD)/src/admin/dashboard.o: src/admin/dashboard.html

# Unit tests include the .c under test when they need static functions
# (h2o's t/00unit style) and otherwise link every module but main.
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) $(wildcard tests/unit/*.h) | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ) $(LDLIBS)

deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; exit $$fail

e2e: $(BUILD)/gatehouse
	GATEHOUSE_BIN=$(abspath $(BUILD)/gatehouse) $(PYTEST) $(PYTEST_JOBS) tests/e2e $(PYTEST_ARGS)

# Soak tests only (deselected from e2e): the normal build, one after another.
soak: $(BUILD)/gatehouse
	GATEHOUSE_BIN=$(abspath $(BUILD)/gatehouse) $(PYTEST) -m soak tests/e2e $(PYTEST_ARGS)

asan:
	$(MAKE) $(ASAN_VARS) build-asan/gatehouse

ASAN_VARS := BUILD=build-asan OPT=-O1 \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

# The C unit tests built and run with ASan+UBSan (build-asan/tests/).
unit-asan:
	$(ASAN_ENV) $(MAKE) $(ASAN_VARS) unit

e2e-asan: asan
	$(ASAN_ENV) GATEHOUSE_BIN=$(abspath build-asan/gatehouse) GATEHOUSE_ASAN=1 \
	  $(PYTEST) $(PYTEST_JOBS) tests/e2e $(PYTEST_ARGS)

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) unit-asan

run: deps all
	@scripts/run-demo.sh

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

bench: deps all
	@bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

# ---- install ----------------------------------------------------------------
# FHS: a /usr install keeps its configuration in /etc, any other prefix
# (/usr/local, /opt/gatehouse) in PREFIX/etc.  The example becomes
# SYSCONFDIR/gatehouse/gatehouse.conf only where none exists yet: an
# operator's configuration is never overwritten (nor removed by uninstall
# once it differs from the example).
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/gatehouse
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
INSTALL    ?= install

install: $(BUILD)/gatehouse
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/gatehouse
	$(INSTALL) -m 755 $(BUILD)/gatehouse $(DESTDIR)$(SBINDIR)/gatehouse
	$(INSTALL) -m 644 man/gatehouse.8 $(DESTDIR)$(MANDIR)/man8/gatehouse.8
	$(INSTALL) -m 644 man/gatehouse.conf.5 $(DESTDIR)$(MANDIR)/man5/gatehouse.conf.5
	$(INSTALL) -m 644 conf/gatehouse.conf.example $(DESTDIR)$(DOCDIR)/gatehouse.conf.example
	$(INSTALL) -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -m 644 docs/configuration.md $(DESTDIR)$(DOCDIR)/configuration.md
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf ]; then \
	  echo "  kept    $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf (exists)"; \
	else \
	  $(INSTALL) -m 644 conf/gatehouse.conf.example $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf; \
	  echo "  CONF    $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/gatehouse $(DESTDIR)$(MANDIR)/man8/gatehouse.8 \
	  $(DESTDIR)$(MANDIR)/man5/gatehouse.conf.5 $(DESTDIR)$(DOCDIR)/gatehouse.conf.example \
	  $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/configuration.md
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@conf=$(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.conf; \
	if [ -e $$conf ] && cmp -s $$conf conf/gatehouse.conf.example; then \
	  rm -f $$conf; rmdir $(DESTDIR)$(SYSCONFDIR)/gatehouse 2>/dev/null || true; \
	elif [ -e $$conf ]; then echo "  kept    $$conf (changed since install)"; fi

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d)
