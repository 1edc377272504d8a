# sockctl — see README.md.  Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PREFIX, DESTDIR.
VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man/man1
COMPDIR   ?= $(PREFIX)/share/bash-completion/completions
PKG_CONFIG ?= pkg-config
INSTALL   ?= install

CFLAGS    ?= -O2 -g
WARNINGS  := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wno-format-nonliteral
# Hardening, on by default (distributions' own flags come after and win).
HARDEN_CPPFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
HARDEN_CFLAGS   := -fstack-protector-strong -fstack-clash-protection -fPIE
HARDEN_LDFLAGS  := -pie -Wl,-z,relro -Wl,-z,now

# make check SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer,
# built apart so the two builds never mix objects.
ifeq ($(SANITIZE),1)
BUILD     := build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HARDEN_CPPFLAGS :=
else
BUILD     := build/rel
SAN_FLAGS :=
endif

NO_PKG_GOALS := deps clean help
ifneq ($(filter-out $(NO_PKG_GOALS),$(or $(MAKECMDGOALS),all)),)
CAPNG_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcap-ng 2>/dev/null)
CAPNG_LIBS   := $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null || echo MISSING)
ifeq ($(CAPNG_LIBS),MISSING)
$(error libcap-ng not found by $(PKG_CONFIG): run 'sudo make deps')
endif
endif

ALL_CPPFLAGS := -D_GNU_SOURCE -DSOCKCTL_VERSION='"$(VERSION)"' -Ilib -Icmd \
                $(CAPNG_CFLAGS) $(HARDEN_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS   := -std=c11 $(WARNINGS) $(HARDEN_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS  := $(HARDEN_LDFLAGS) $(SAN_FLAGS) $(LDFLAGS)
LIBS         := $(CAPNG_LIBS) -lm $(LDLIBS)

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)
LIBA     := $(BUILD)/libsockctl.a
MANPAGES := $(sort $(wildcard docs/*.1))

.PHONY: all check unit objs bench install uninstall deps clean lint fuzz
.DEFAULT_GOAL := all

all: sockctl

# ./sockctl is always the build selected by SANITIZE; the stamp makes
# switching between the two relink it.
sockctl: $(CMD_OBJ) $(LIBA) $(BUILD)/.stamp
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(LIBA) $(LIBS)

$(BUILD)/.stamp:
	@mkdir -p $(BUILD) && rm -f build/*/.stamp && touch $@

$(LIBA): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) -MMD -MP -MF $@.dep -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/tests/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_BIN:=.dep)

unit: $(UNIT_BIN)

# every object, without linking ./sockctl (the warnings test builds these
# into a scratch BUILD dir)
objs: $(LIB_OBJ) $(CMD_OBJ)

check: sockctl unit
	@UNIT_DIR=$(BUILD)/tests/unit tests/run

bench: sockctl $(BENCH_BIN)
	@BENCH_DIR=$(BUILD)/tests/bench tests/bench/run

install: sockctl
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(COMPDIR)
	$(INSTALL) -m 755 sockctl $(DESTDIR)$(BINDIR)/sockctl
	$(INSTALL) -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/
	$(INSTALL) -m 644 completions/sockctl.bash $(DESTDIR)$(COMPDIR)/sockctl
	@echo "raw-icmp without root: sudo setcap cap_net_raw+p $(DESTDIR)$(BINDIR)/sockctl"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sockctl $(DESTDIR)$(COMPDIR)/sockctl
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(MANPAGES)))

# Build and test dependencies, from Debian/Ubuntu packages; installs only
# what is missing, so running it twice is harmless.
DEPS := gcc make pkg-config libcap-ng-dev libc6-dev bats netcat-openbsd socat \
        dnsmasq-base iputils-ping iproute2 nftables iperf3 nmap jq groff-base \
        hyperfine python3 time bash-completion libcap2-bin clang libclang-rt-14-dev \
        valgrind cppcheck clang-tidy procps util-linux
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all dependencies present"; fi

clean:
	rm -rf build sockctl
