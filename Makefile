# sockctl — see README.md.  Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, PREFIX, DESTDIR.
# The one place the version is written: --version, the man pages (at
# install) and debian/changelog (checked by debian/rules and docs.bats) read it.
VERSION   := $(shell cat VERSION)
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man/man1
COMPDIR   ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SCHEMADIR   ?= $(PREFIX)/share/sockctl/schemas
PKG_CONFIG ?= pkg-config
INSTALL   ?= install

CFLAGS    ?= -O2 -g
WARNINGS  := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wno-format-nonliteral
# Hardening, on by default (distributions' own flags come after and win;
# a _FORTIFY_SOURCE of theirs replaces ours, without a redefinition warning).
HARDEN_CPPFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
ifneq ($(findstring _FORTIFY_SOURCE,$(CPPFLAGS)),)
HARDEN_CPPFLAGS :=
endif
HARDEN_CFLAGS   := -fstack-protector-strong -fstack-clash-protection -fPIE
HARDEN_LDFLAGS  := -pie -Wl,-z,relro -Wl,-z,now

# make check SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer,
# built apart so the two builds never mix objects.
ifeq ($(SANITIZE),1)
BUILD     := build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# the seccomp programs then also allow what the sanitizers do at exit
HARDEN_CPPFLAGS := -DSOCKCTL_SANITIZE
else
BUILD     := build/rel
SAN_FLAGS :=
endif

NO_PKG_GOALS := deps clean help
ifneq ($(filter-out $(NO_PKG_GOALS),$(or $(MAKECMDGOALS),all)),)
CAPNG_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcap-ng 2>/dev/null)
CAPNG_LIBS   := $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null || echo MISSING)
ifeq ($(CAPNG_LIBS),MISSING)
$(error libcap-ng not found by $(PKG_CONFIG): run 'sh deps.sh' (as root, or a user with sudo))
endif
# Startup is part of every shell-loop use: link libcap-ng's archive when the
# system has one (Debian's libcap-ng-dev does), so no command pays for
# loading a second shared library.  STATIC_CAPNG=0 links it dynamically.
STATIC_CAPNG ?= 1
# TLS: OpenSSL 3's headers only.  lib/tls dlopen()s libssl.so.3 when --tls
# is used, so no command links (or starts up slower for) libssl.
SSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags 'openssl >= 3' 2>/dev/null || echo MISSING)
ifeq ($(SSL_CFLAGS),MISSING)
$(error OpenSSL 3 (libssl-dev) not found by $(PKG_CONFIG): run 'sh deps.sh')
endif
# The sandbox: libseccomp builds its programs at build time only
# (tools/sandbox_gen); ./sockctl does not link it.
SECCOMP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libseccomp 2>/dev/null)
SECCOMP_LIBS   := $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo MISSING)
ifeq ($(SECCOMP_LIBS),MISSING)
$(error libseccomp not found by $(PKG_CONFIG): run 'sh deps.sh' (as root, or a user with sudo))
endif
ifeq ($(STATIC_CAPNG)$(SANITIZE),1)
ifneq ($(wildcard $(shell $(CC) -print-file-name=libcap-ng.a)),)
CAPNG_LIBS := -Wl,-Bstatic $(CAPNG_LIBS) -Wl,-Bdynamic
endif
endif
endif

ALL_CPPFLAGS := -D_GNU_SOURCE -DSOCKCTL_VERSION='"$(VERSION)"' -Ilib -Icmd \
                $(CAPNG_CFLAGS) $(SSL_CFLAGS) $(HARDEN_CPPFLAGS) $(CPPFLAGS)
# -fno-math-errno: sqrt() becomes one instruction and libm is not needed;
# --as-needed then leaves it out of the binary's dependencies.
# -fno-asynchronous-unwind-tables: C needs no .eh_frame (nothing here unwinds
# at run time); it is 38 KiB of read-only pages beside .rodata that every
# run maps (fault-around).  -g still writes .debug_frame for gdb and valgrind.
# The sanitizer build keeps it for its stack traces.
ifeq ($(SANITIZE),1)
UNWIND_CFLAGS :=
else
UNWIND_CFLAGS := -fno-asynchronous-unwind-tables
endif
ALL_CFLAGS   := -std=c11 $(WARNINGS) -fno-math-errno $(UNWIND_CFLAGS) $(HARDEN_CFLAGS) $(SAN_FLAGS) \
                $(CFLAGS)
ALL_LDFLAGS  := -Wl,--as-needed $(HARDEN_LDFLAGS) $(SAN_FLAGS) $(LDFLAGS)
LIBS         := $(CAPNG_LIBS) -lm $(LDLIBS)

LIB_SRC  := $(sort $(wildcard lib/*.c))
# cmd/sandbox_tables.c goes into the generator only (see below)
CMD_SRC  := $(filter-out cmd/sandbox_tables.c,$(sort $(wildcard cmd/*.c)))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)
LIBA     := $(BUILD)/libsockctl.a
# The sandbox's seccomp programs, compiled to BPF at build time: the
# generator (linked with libseccomp, built for this host without the
# sanitizers; with -DSOCKCTL_SANITIZE under SANITIZE=1 so build/san's
# programs allow what ASan needs) writes every table of
# cmd/sandbox_tables.c as a struct sock_filter array.
GEN_BIN  := $(BUILD)/gen/sandbox_gen
GEN_SRC  := $(BUILD)/gen/sandbox_progs.c
GEN_OBJ  := $(BUILD)/gen/sandbox_progs.o
# Link order is memory and startup time: the kernel maps a program's text in
# 64 KiB windows around each page a run touches (fault-around), so the code
# every run needs (dispatch, options, errors, output, addresses, sockets)
# comes first, then each command's own code in one block.  Files not listed
# follow in name order.  The binary links the objects, not the archive: every
# object is used (--gc-sections finds under 2 KiB to drop).
LINK_ORDER := cmd/main cmd/priv_start lib/priv lib/err lib/opt lib/out lib/parse lib/addr \
              lib/clock lib/sock lib/rtt cmd/sandbox lib/sandbox gen/sandbox_progs cmd/resolve lib/tls_opts cmd/trace_ask \
              cmd/connect cmd/connect_show cmd/connect_scan cmd/connect_proxy cmd/session_log \
              lib/exec lib/sock_connect lib/scan lib/relay lib/inherit \
              cmd/listen cmd/listen_check cmd/listen_proxy cmd/listen_forward cmd/exec_show \
              lib/server cmd/server_show \
              lib/dgram_server lib/dgram_recv lib/dgram_guard lib/sock_rxq lib/dgram_show \
              cmd/dgram_out cmd/udp_recv lib/dgram lib/dgram_send cmd/udp_send cmd/udp_send_show \
              cmd/trace_cmd lib/tls \
              cmd/raw_icmp cmd/raw_icmp_opts cmd/raw_icmp_show lib/outbuf lib/ping lib/ping_check \
              lib/icmp
LINK_OBJ := $(foreach f,$(LINK_ORDER),$(filter $(BUILD)/$(f).o,$(CMD_OBJ) $(LIB_OBJ) $(GEN_OBJ))) \
            $(filter-out $(LINK_ORDER:%=$(BUILD)/%.o),$(CMD_OBJ) $(LIB_OBJ))
MANPAGES := $(sort $(wildcard docs/*.1))

.PHONY: all check soak unit objs bench install uninstall deps clean lint fuzz fuzz-build transfer-matrix \
	completions deb deb-check
.DEFAULT_GOAL := all

all: sockctl

# ./sockctl is always the build selected by SANITIZE; the stamp makes
# switching between the two relink it.
sockctl: $(LINK_OBJ) $(BUILD)/.stamp
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(LINK_OBJ) $(LIBS)

$(GEN_BIN): tools/sandbox_gen.c tools/sandbox_gen.h cmd/sandbox_tables.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(filter -DSOCKCTL_SANITIZE,$(HARDEN_CPPFLAGS)) -Itools $(SECCOMP_CFLAGS) \
		-std=c11 $(WARNINGS) -O1 -o $@ tools/sandbox_gen.c cmd/sandbox_tables.c $(SECCOMP_LIBS)

$(GEN_SRC): $(GEN_BIN)
	$(GEN_BIN) $@

$(GEN_OBJ): $(GEN_SRC)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The same binary with the sandbox's test hook (cmd/sandbox.c built with
# -DSOCKCTL_TEST_HOOKS): only tests/bats/sandbox.bats runs it; ./sockctl
# has no hook.
HOOKS_BIN := $(BUILD)/sockctl-hooks
$(BUILD)/cmd/sandbox_hooks.o: cmd/sandbox.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -DSOCKCTL_TEST_HOOKS $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(HOOKS_BIN): $(filter-out $(BUILD)/cmd/sandbox.o,$(LINK_OBJ)) $(BUILD)/cmd/sandbox_hooks.o
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/.stamp:
	@mkdir -p $(BUILD) && rm -f build/*/.stamp && touch $@

$(LIBA): $(LIB_OBJ) $(GEN_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) -MMD -MP -MF $@.dep -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/tests/bench/%: tests/bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

# --version is compiled in
$(BUILD)/cmd/main.o: VERSION

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_BIN:=.dep) $(BUILD)/cmd/sandbox_hooks.d \
	$(GEN_OBJ:.o=.d)

unit: $(UNIT_BIN)

# every object, without linking ./sockctl (the warnings test builds these
# into a scratch BUILD dir)
objs: $(LIB_OBJ) $(CMD_OBJ)

# Under SANITIZE=1 every sanitizer report goes to a file in $(SAN_LOG_DIR),
# not to stderr (where it would confuse tests that read stderr), and with an
# exit status (86) no test expects; tests/run fails the suite on any report.
SAN_LOG_DIR := $(CURDIR)/$(BUILD)/sanitizer-logs
SAN_ASAN := detect_leaks=1:exitcode=86:strict_string_checks=1:check_initialization_order=1
SAN_ASAN := $(SAN_ASAN):detect_stack_use_after_return=1:log_path=$(SAN_LOG_DIR)/asan
SAN_UBSAN := print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$(SAN_LOG_DIR)/ubsan
SAN_ENV := ASAN_OPTIONS=$(SAN_ASAN) UBSAN_OPTIONS=$(SAN_UBSAN) SAN_LOG_DIR=$(SAN_LOG_DIR)

check: sockctl unit $(HOOKS_BIN)
ifeq ($(SANITIZE),1)
	@rm -rf $(SAN_LOG_DIR) && mkdir -p $(SAN_LOG_DIR)
	@$(SAN_ENV) SOCKCTL_HOOKS=$(CURDIR)/$(HOOKS_BIN) UNIT_DIR=$(BUILD)/tests/unit tests/run
else
	@SOCKCTL_HOOKS=$(CURDIR)/$(HOOKS_BIN) UNIT_DIR=$(BUILD)/tests/unit tests/run
endif

# issue 13's soak: 10 minutes (SOAK_SECONDS=N for a shorter one)
soak: sockctl
	@tests/soak.sh

# issue 9's file-transfer matrix as a markdown table (about 2 minutes)
transfer-matrix: sockctl
	@tests/transfer-matrix.sh --header

bench: sockctl $(BENCH_BIN)
	@BENCH_DIR=$(BUILD)/tests/bench tests/bench/run

# completions/ holds what 'sockctl completion SHELL' prints (docs.bats fails
# when they differ): after changing an option table, run make completions.
COMPLETIONS := completions/sockctl.bash completions/_sockctl completions/sockctl.fish
completions: sockctl
	./sockctl completion bash >completions/sockctl.bash.tmp
	./sockctl completion zsh >completions/_sockctl.tmp
	./sockctl completion fish >completions/sockctl.fish.tmp
	for f in $(COMPLETIONS); do mv $$f.tmp $$f || exit 1; done

install: sockctl
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(COMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 755 sockctl $(DESTDIR)$(BINDIR)/sockctl
	@# the shared SOCKET OPTIONS text (.so docs/sockopts.inc) goes inline
	for p in $(MANPAGES); do soelim $$p | sed 's/@VERSION@/$(VERSION)/g' \
		>$(DESTDIR)$(MANDIR)/$${p##*/} && \
		chmod 644 $(DESTDIR)$(MANDIR)/$${p##*/} || exit 1; done
	$(INSTALL) -m 644 completions/sockctl.bash $(DESTDIR)$(COMPDIR)/sockctl
	$(INSTALL) -m 644 completions/_sockctl $(DESTDIR)$(ZSHCOMPDIR)/_sockctl
	$(INSTALL) -m 644 completions/sockctl.fish $(DESTDIR)$(FISHCOMPDIR)/sockctl.fish
	$(INSTALL) -d $(DESTDIR)$(SCHEMADIR)
	$(INSTALL) -m 644 docs/*.schema.json $(DESTDIR)$(SCHEMADIR)/
	@echo "raw-icmp for users: widen net.ipv4.ping_group_range, or"
	@echo "  sudo setcap cap_net_raw+p $(DESTDIR)$(BINDIR)/sockctl"
	@echo "  (every other command then drops it at start; undo: sudo setcap -r ...; see sockctl(1))"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sockctl $(DESTDIR)$(COMPDIR)/sockctl
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_sockctl $(DESTDIR)$(FISHCOMPDIR)/sockctl.fish
	rm -rf $(DESTDIR)$(SCHEMADIR)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(MANPAGES)))

# ---- make deb: the Debian package (debian/) into build/deb/, lintian-clean ----
# Built from a copy of the tracked and new files (git ls-files), so nothing
# of build/ or a local ./sockctl gets in.  DEB_BUILD_OPTIONS passes through
# (nocheck skips the unit tests).  make deb-check installs the package into
# a fresh Debian 12 chroot and tests it there (slow; root; downloads).
DEB_DIR := build/deb
DEB_SRC := $(DEB_DIR)/src/sockctl-$(VERSION)
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/src/*.changes $(DEB_DIR)/src/*.buildinfo $(DEB_DIR)/
	lintian --fail-on error,warning $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb

deb-check: deb
	tests/deb-check.sh $(DEB_DIR)/sockctl_$(VERSION)_*.deb

# Build and test dependencies, from Debian/Ubuntu packages: deps.sh holds
# the list and installs only what is missing (run it directly where make is
# not installed yet: sh deps.sh).
deps:
	@sh ./deps.sh

# ---- make lint: cppcheck and clang-tidy (config in .clang-tidy) over cmd/ and lib/ ----
LINT_SRC := $(LIB_SRC) $(CMD_SRC) cmd/sandbox_tables.c tools/sandbox_gen.c
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
lint:
	@echo "cppcheck $(words $(LINT_SRC)) files"
	@$(CPPCHECK) --quiet --error-exitcode=1 --std=c11 --language=c --inline-suppr \
		--enable=warning,style,performance,portability --library=posix \
		--suppressions-list=.cppcheck-suppressions --inline-suppr \
		-D_GNU_SOURCE -DSOCKCTL_VERSION='"lint"' -D__GNUC__ -Ilib -Icmd -Itools $(LINT_SRC)
	@echo "clang-tidy $(words $(LINT_SRC)) files"
	@out=$$($(CLANG_TIDY) --quiet --warnings-as-errors='*' $(LINT_SRC) -- \
		$(filter-out $(HARDEN_CPPFLAGS),$(ALL_CPPFLAGS)) -Itools -std=c11 2>&1); rc=$$?; \
		printf '%s\n' "$$out" | grep -v '^[0-9]* warnings\{0,1\} generated\.$$'; \
		exit $$rc
	@echo "lint: clean"

# ---- make fuzz: every tests/fuzz/fuzz_NAME.c is a libFuzzer target ----
# Built with clang against lib/*.c in build/fuzz (apart from the normal
# build); each runs FUZZ_SECONDS with a scratch copy of tests/fuzz/seeds/NAME
# (new inputs stay in build/, the repo keeps its small seeds).  A crash
# leaves build/fuzz/crash-NAME-* and fails the target.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_DIR     := build/fuzz
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_CPPFLAGS := $(filter-out $(HARDEN_CPPFLAGS),$(ALL_CPPFLAGS)) -Itests/fuzz

$(FUZZ_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) -std=c11 $(WARNINGS) $(FUZZ_FLAGS) \
		-fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) -std=c11 $(WARNINGS) $(FUZZ_FLAGS) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB_OBJ) $(LIBS)

-include $(FUZZ_LIB_OBJ:.o=.d)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_NAMES)

clean:
	rm -rf build sockctl
