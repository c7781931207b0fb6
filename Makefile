# doorjam: one non-recursive Makefile.
#
#   make            build ./doorjam
#   make deps       install missing Debian packages and the test peers (idempotent)
#   make check      deps, build, and every test layer (unit, net, uml, e2e, fuzz)
#   make demo       deps, build, and the us-east-1 outage against the demo wallet
#   make SAN=1 ...  build with AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind   the unit suite under valgrind (memcheck, leaks are errors)
#   make V=1 ...    show the commands
#   make install PREFIX=/usr/local
#
# Sources are picked up per folder; every .c of common/, injector/, reports/
# and runner/ (except runner/main.c) goes into one static library that the
# binary and every test link against.

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
PKGS    := libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libpcap libcurl jansson
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wundef -Wwrite-strings -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -I. -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
B       := $(BUILD)/san
else
B       := $(BUILD)/std
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC  := $(wildcard common/*.c injector/*.c reports/*.c) \
            $(filter-out runner/main.c,$(wildcard runner/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB      := $(B)/libdoorjam.a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELP_SRC := $(wildcard tests/helpers/*.c)
HELP_BIN := $(HELP_SRC:tests/helpers/%.c=$(B)/helpers/%)
SHIM_SRC := $(wildcard tests/shim/*.c)
SHIM_BIN := $(SHIM_SRC:tests/shim/%.c=$(B)/shim/%.so)
# ./doorjam is the default build's; a sanitizer build or another BUILD folder
# links its own inside that folder, so that builds never overwrite each other
BIN      := doorjam
ifneq ($(SAN)$(BUILD),build)
BIN      := $(B)/doorjam
endif

.PHONY: all deps check demo unit valgrind net uml e2e fuzz install clean headers
all: $(BIN) $(HELP_BIN) $(SHIM_BIN)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(B)/runner/main.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(B)/helpers/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# LD_PRELOAD shims for the tests; never instrumented (they wrap libc calls of an
# instrumented binary just as well, see tests/e2e/test_iofail.sh).
$(B)/shim/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) -O2 -g -std=gnu11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) -D_GNU_SOURCE \
	  -fPIC -shared -o $@ $< -ldl

# Every header compiles on its own (no hub headers, includes are complete).
headers:
	$(Q)for h in common/*.h injector/*.h reports/*.h runner/*.h; do \
	  echo "#include \"$$h\"" | $(CC) $(CFLAGS) -x c -fsyntax-only - || exit 1; done

deps:
	$(Q)tests/deps.sh

unit: $(UNIT_BIN)
	$(Q)tests/run-unit.sh $(B)/tests

# the unit suite under valgrind's memcheck (a plain build: not with SAN=1)
valgrind: $(UNIT_BIN)
	$(Q)VALGRIND=1 tests/run-unit.sh $(B)/tests

net: all
	$(Q)tests/net/run.sh $(B)

uml: all
	$(Q)tests/uml/run.sh $(B)

e2e: all
	$(Q)tests/e2e/run.sh $(B)

fuzz:
	$(Q)tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

check: deps
	$(Q)$(MAKE) --no-print-directory all headers $(UNIT_BIN)
	$(Q)tests/check.sh $(B)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)examples/wallet-demo/demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doorjam/scenarios
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/doorjam
	cp -r scenarios/. $(DESTDIR)$(PREFIX)/share/doorjam/scenarios/

clean:
	rm -rf build doorjam

-include $(LIB_OBJ:.o=.d) $(B)/runner/main.d
