# gatehouse - plain Makefile, HAProxy/nginx style.
#
#   make            build build/gatehouse
#   make run        install deps, build, start demo origins + gatehouse
#   make test       deps, build, unit tests, end-to-end tests, then the unit
#                   tests and the same end-to-end suite on an ASan+UBSan build,
#                   then a FUZZ_SECONDS (30) smoke run of each fuzz target
#   make soak       the heavy end-to-end tests (pytest marker `soak`: 10k
#                   connections, 1 GiB bodies, 3,000-request distributions)
#   make fuzz       short bounded libFuzzer runs (clang)
#   make bench      gatehouse vs HAProxy vs nginx (see bench/README.md)

CC       ?= gcc
BUILD    ?= build
OPT      ?= -O2
CFLAGS   ?=
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
ALLCFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -Isrc -pthread -MMD -MP $(CFLAGS)
LDLIBS   := -lpcre2-8 -lssl -lcrypto -pthread
PYTHON   := /usr/bin/python3
# -rs lists every skip with its reason; conftest.py fails unexpected ones.
PYTEST   := $(PYTHON) -m pytest -q -rs
FUZZ_SECONDS ?= 30

LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test unit e2e asan unit-asan e2e-asan soak fuzz bench clean

all: $(BUILD)/gatehouse

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -c $< -o $@

$(BUILD)/gatehouse: $(LIB_OBJ) $(MAIN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(ALLCFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests include the .c under test when they need static functions
# (h2o's t/00unit style) and otherwise link every module but main.
$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALLCFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ) $(LDLIBS)

deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do $$t || fail=1; done; exit $$fail

e2e: $(BUILD)/gatehouse
	GATEHOUSE_BIN=$(abspath $(BUILD)/gatehouse) $(PYTEST) tests/e2e $(PYTEST_ARGS)

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
	  $(PYTEST) tests/e2e $(PYTEST_ARGS)

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) unit-asan
	$(MAKE) e2e-asan
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

run: deps all
	@scripts/run-demo.sh

fuzz:
	@scripts/fuzz.sh

bench: deps all
	@bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d)
