# gatehouse - plain Makefile, HAProxy/nginx style.
#
#   make            build build/gatehouse
#   make run        install deps, build, start demo origins + gatehouse
#   make test       deps, build, unit tests, end-to-end tests, then the same
#                   end-to-end suite on an ASan+UBSan build
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

LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test unit e2e asan e2e-asan fuzz bench clean

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
	GATEHOUSE_BIN=$(abspath $(BUILD)/gatehouse) $(PYTHON) -m pytest -q tests/e2e $(PYTEST_ARGS)

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build-asan/gatehouse

e2e-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	GATEHOUSE_BIN=$(abspath build-asan/gatehouse) GATEHOUSE_ASAN=1 \
	  $(PYTHON) -m pytest -q tests/e2e $(PYTEST_ARGS)

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) e2e-asan

run: deps all
	@scripts/run-demo.sh

fuzz:
	@scripts/fuzz.sh

bench: deps all
	@bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
