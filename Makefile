# sslua - LuaSec-compatible TLS for Lua over OpenSSL 3.
#
#   make                  build for Lua 5.3 into build/5.3/
#   make LUA_VERSION=5.1  (5.2, 5.4, jit) build for another Lua
#   make install          PREFIX=/usr/local DESTDIR=; make uninstall takes it away
#   make test             install the Debian packages missing, build, make certs, run the specs
#   make demo             the example client and server exchange one line
#   make OPENSSL=3.5      (3.6) against another OpenSSL, into build/5.3-openssl3.5/
#                         (first: ci/openssl-build 3.5); works with every target
#   make OPENSSL_DIR=DIR  against any OpenSSL 3 prefix (DIR/include, DIR/lib)
#
# Building and installing never install packages, on any system: when
# something is missing the build stops with one line naming it and the
# variable to set (mk/preflight). Honoured: CC, CPPFLAGS, CFLAGS, LDFLAGS,
# LIBFLAG (how to link a module), LUA_INCDIR or LUA_CFLAGS, OPENSSL_DIR or
# pkg-config (PKG_CONFIG_PATH), LUA_BIN (the interpreter), PREFIX, DESTDIR,
# LUA_CMODDIR, LUA_LMODDIR. The test targets (test, interop, check, demo,
# bench, load, fuzz, spec-upstream, option-report, certs) prepare a Debian
# machine first: they install what is missing with ci/apt-ensure.

LUA_VERSION ?= 5.3
PREFIX      ?= /usr/local
DESTDIR     ?=

# A value quoted for the shell.
sq = '$(subst ','\'',$(1))'
# pkg-config, with PKG_CONFIG_PATH / PKG_CONFIG_LIBDIR given to make as well
# as in the environment ($(shell) sees only the environment).
PKG_CONFIG ?= pkg-config
PKG = $(foreach v,PKG_CONFIG_PATH PKG_CONFIG_LIBDIR,$(if $(filter command line,$(origin $(v))),$(v)=$(call sq,$($(v))))) \
      $(PKG_CONFIG)

ifeq ($(LUA_VERSION),jit)
  LUA_NAMES := luajit
  LUA_ABI   := 5.1
  LUA_DEBS  := luajit libluajit-5.1-dev lua-socket
else
  # What systems call this Lua, as a command and a pkg-config module:
  # Debian lua5.3, FreeBSD lua-5.3 / lua53, OpenBSD and Arch lua53, else lua.
  LUA_NAMES := lua$(LUA_VERSION) lua-$(LUA_VERSION) lua$(subst .,,$(LUA_VERSION)) lua
  LUA_ABI   := $(LUA_VERSION)
  LUA_DEBS  := lua$(LUA_VERSION) liblua$(LUA_VERSION)-dev lua-socket
endif
# Debian names 5.1's headers package liblua5.1-0-dev; liblua5.1-dev is only a
# virtual name, which dpkg never reports installed (apt-get would run each time).
LUA_DEBS := $(subst liblua5.1-dev,liblua5.1-0-dev,$(LUA_DEBS))

# The interpreter: the first of LUA_NAMES on PATH (only `lua` is checked
# for its version, by mk/install-plan.lua when it is used).
ifeq ($(origin LUA_BIN),undefined)
  LUA_BIN := $(or $(firstword $(foreach n,$(LUA_NAMES),$(shell command -v $(n) >/dev/null 2>&1 && echo $(n)))),$(firstword $(LUA_NAMES)))
endif
# The pkg-config module for Lua's headers: the first name pkg-config knows
# with this Lua's version (the plain `lua` may be another one).
ifeq ($(origin LUA_PKG),undefined)
  LUA_PKG := $(shell for p in $(LUA_NAMES); do v=$$($(PKG) --modversion $$p 2>/dev/null) || continue; \
               case "$(LUA_VERSION):$$v" in (jit:*|$(LUA_VERSION):$(LUA_VERSION)*) echo $$p; break;; esac; done)
endif

# Another OpenSSL. OPENSSL=3.5 names a build of ci/openssl-build, pinned in
# ci/versions and cached outside the tree (survives make clean); plain make
# never downloads or builds it. OPENSSL_DIR is any prefix: ssl.so is linked
# with an rpath to its lib/, so it loads that libssl without LD_LIBRARY_PATH,
# and the targets that run peers put that OpenSSL's CLI first on PATH.
include ci/versions
SSLUA_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sslua
OPENSSL     ?=
OPENSSL_DIR ?=
# interop/peer_openssl.py reads $OPENSSL as the path of its CLI: it must never
# see a version number (sub-makes still get OPENSSL through MAKEFLAGS).
unexport OPENSSL
ifneq ($(OPENSSL),)
  OPENSSL_DEB := $(OPENSSL_$(subst .,_,$(OPENSSL))_DEB)
  OPENSSL_PINNED := $(subst _,.,$(patsubst OPENSSL_%_DEB,%,$(filter OPENSSL_%_DEB,$(.VARIABLES))))
  ifeq ($(OPENSSL_DEB),)
    $(error OPENSSL=$(OPENSSL) is not pinned in ci/versions (pinned: $(OPENSSL_PINNED)))
  endif
  OPENSSL_DIR := $(SSLUA_CACHE)/openssl-$(OPENSSL_DEB)
  OPENSSL_TAG := openssl$(OPENSSL)
  OPENSSL_BIN := build/openssl-$(OPENSSL)/bin
  ifeq ($(wildcard $(OPENSSL_DIR)/.stamp),)
    ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),all)),)
      $(error OpenSSL $(OPENSSL) ($(OPENSSL_DEB)) is not built in $(SSLUA_CACHE): run ci/openssl-build $(OPENSSL))
    endif
  endif
else ifneq ($(OPENSSL_DIR),)
  OPENSSL_TAG := $(notdir $(patsubst %/,%,$(OPENSSL_DIR)))
  OPENSSL_BIN := $(if $(wildcard $(OPENSSL_DIR)/bin/openssl),$(OPENSSL_DIR)/bin)
endif
# Upstream builds install to lib64/ on some systems.
OPENSSL_LIBDIR ?= $(if $(wildcard $(OPENSSL_DIR)/lib64/libssl.*),$(OPENSSL_DIR)/lib64,$(OPENSSL_DIR)/lib)
# Prefix for commands that run an openssl peer: that OpenSSL's CLI first.
PEER_ENV := $(if $(OPENSSL_BIN),PATH='$(abspath $(OPENSSL_BIN))':"$$PATH")

BUILD     ?= build/$(LUA_VERSION)$(if $(OPENSSL_TAG),-$(OPENSSL_TAG))
LIBDIR    := $(BUILD)/lib
SHAREDIR  := $(BUILD)/share
OBJDIR    := $(BUILD)/obj
CERTDIR   := build/certs

BUILD_DEBS := gcc make pkg-config libssl-dev openssl
TEST_DEBS  := lua-busted lua-copas lua-sec

# Compiling and linking. A module takes Lua's functions from the interpreter
# that loads it, so it is not linked with a Lua library; macOS needs that
# said (-undefined dynamic_lookup) and calls a loadable module a bundle.
UNAME_S := $(shell uname -s 2>/dev/null)
CC      ?= cc
WARN    := -Wall -Wextra
CFLAGS  ?= -O2 -g
LDFLAGS ?=
ifeq ($(UNAME_S),Darwin)
  LIBFLAG ?= -bundle -undefined dynamic_lookup
else
  LIBFLAG ?= -shared
endif
# glibc hides POSIX under -std=c99 unless asked for it; the BSDs and macOS
# show it by default, and asking would hide their socket options.
ifneq ($(filter Darwin %BSD DragonFly,$(UNAME_S)),)
  POSIX_CFLAGS ?=
else
  POSIX_CFLAGS ?= -D_POSIX_C_SOURCE=200809L
endif

# Lua's headers: LUA_CFLAGS, else LUA_INCDIR, else pkg-config's LUA_PKG,
# else the compiler's default paths. LUA_FROM says which, for messages.
ifneq ($(origin LUA_CFLAGS),undefined)
  LUA_FROM := LUA_CFLAGS=$(LUA_CFLAGS)
else ifneq ($(LUA_INCDIR),)
  LUA_CFLAGS := -I$(LUA_INCDIR)
  LUA_FROM   := LUA_INCDIR=$(LUA_INCDIR)
else ifneq ($(LUA_PKG),)
  LUA_CFLAGS := $(shell $(PKG) --cflags $(LUA_PKG))
  LUA_FROM   := pkg-config $(LUA_PKG): $(or $(strip $(LUA_CFLAGS)),no flags)
else
  LUA_CFLAGS :=
  LUA_FROM   := pkg-config knows none of $(LUA_NAMES) with version $(LUA_VERSION); not in the compiler's default paths
endif
# OpenSSL's: OPENSSL_DIR (with an rpath to its libraries), else pkg-config's
# openssl (PKG_CONFIG_PATH finds others), else the compiler's defaults.
ifneq ($(OPENSSL_DIR),)
  SSL_CFLAGS := -I$(OPENSSL_DIR)/include
  SSL_LIBS   := -L$(OPENSSL_LIBDIR) -Wl,-rpath,$(OPENSSL_LIBDIR) -lssl -lcrypto
  SSL_FROM   := OPENSSL_DIR=$(OPENSSL_DIR)
else ifneq ($(shell $(PKG) --exists openssl 2>/dev/null && echo y),)
  SSL_CFLAGS := $(shell $(PKG) --cflags openssl)
  SSL_LIBS   := $(shell $(PKG) --libs openssl)
  SSL_FROM   := pkg-config openssl: $(or $(strip $(SSL_CFLAGS) $(SSL_LIBS)),no flags)
else
  SSL_CFLAGS :=
  SSL_LIBS   := -lssl -lcrypto
  SSL_FROM   := pkg-config knows no openssl; the compiler's default paths
endif
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -std=c99 $(POSIX_CFLAGS) \
             -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
             $(LUA_CFLAGS) $(SSL_CFLAGS) $(EXTRA_CFLAGS)

SRCS    := $(wildcard src/*.c)
HDRS    := $(wildcard src/*.h)
OBJS    := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS))
LUASRC  := src/ssl.lua src/ssl/https.lua

BUSTED  := $(LUA_BIN) /usr/bin/busted
LUA_ENV := LUA_CPATH='$(LIBDIR)/?.so;;' \
           LUA_PATH='$(SHAREDIR)/?.lua;$(SHAREDIR)/?/init.lua;spec/?.lua;;'

.PHONY: all build deps test-deps certs test spec demo install uninstall clean interop check
.PHONY: preflight openssl-cli
.PHONY: spec-upstream

all: build

build: preflight $(LIBDIR)/ssl.so $(SHAREDIR)/ssl.lua $(SHAREDIR)/ssl/https.lua \
       $(if $(OPENSSL),openssl-cli)

# The targets that prepare a Debian machine (ci/apt-ensure: only what is
# missing); with one of them among the goals, deps runs before preflight.
SETUP_GOALS := deps test spec interop interop-quick interop-baseline check demo \
               bench bench-quick load fuzz fuzz-quick fuzz-api fuzz-api-quick spec-upstream \
               option-report option-report-baseline option-builds
SETUP := $(if $(filter $(SETUP_GOALS),$(MAKECMDGOALS)),deps)

# Is everything the build needs here? mk/preflight prints nothing, or the
# one line to stop with (as make's own error: nothing else is printed).
PREFLIGHT = $(shell CC=$(call sq,$(CC)) CPPFLAGS=$(call sq,$(CPPFLAGS)) CFLAGS=$(call sq,$(CFLAGS)) \
  LDFLAGS=$(call sq,$(LDFLAGS)) LUA_VERSION=$(call sq,$(LUA_VERSION)) \
  LUA_INCDIR=$(call sq,$(LUA_INCDIR)) LUA_CFLAGS=$(call sq,$(LUA_CFLAGS)) LUA_FROM=$(call sq,$(LUA_FROM)) \
  OPENSSL_DIR=$(call sq,$(OPENSSL_DIR)) OPENSSL_LIBDIR=$(call sq,$(OPENSSL_LIBDIR)) SSL_CFLAGS=$(call sq,$(SSL_CFLAGS)) \
  SSL_LIBS=$(call sq,$(SSL_LIBS)) SSL_FROM=$(call sq,$(SSL_FROM)) ./mk/preflight)
preflight: | $(SETUP)
	@$(eval PREFLIGHT_SAYS := $(strip $(PREFLIGHT)))$(if $(PREFLIGHT_SAYS),$(error $(PREFLIGHT_SAYS)))

# This OpenSSL's CLI at build/openssl-VER/bin/openssl (its rpath finds its own libraries).
openssl-cli:
	@mkdir -p $(OPENSSL_BIN)
	@ln -sfn '$(OPENSSL_DIR)/bin/openssl' $(OPENSSL_BIN)/openssl

# What the build needs, from Debian: only for the targets that prepare the
# machine (SETUP_GOALS). Installs only what is missing, so a prepared
# machine never touches apt.
deps:
	@./ci/apt-ensure $(BUILD_DEBS) $(LUA_DEBS)

test-deps:
	@./ci/apt-ensure $(TEST_DEBS)

$(OBJDIR)/%.o: src/%.c $(HDRS) | $(OBJDIR) preflight
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBDIR)/ssl.so: $(OBJS) | $(LIBDIR)
	$(CC) $(LIBFLAG) $(LDFLAGS) -o $@ $(OBJS) $(SSL_LIBS) $(EXTRA_LDFLAGS)

$(SHAREDIR)/%.lua: src/%.lua
	@mkdir -p $(dir $@)
	cp $< $@

$(OBJDIR) $(LIBDIR):
	mkdir -p $@

certs:
	@./ci/apt-ensure openssl
	@./certs/gen.sh $(CERTDIR)

# The spec suite (ci/run-specs: each spec file in a busted process of its
# own, under a time limit; .busted loads the build SSLUA_BUILD names), the
# Python unit tests (interop harness, benchmark tools), then the quick
# interop matrix; each prints its own "N passed, N failed" and the last
# line is their sum (ci/total).
test: deps build test-deps certs
	@mkdir -p build/reports
	-$(PEER_ENV) SSLUA_BUILD=$(BUILD) SSLUA_LUA=$(LUA_BIN) SSLUA_CERTS=$(CERTDIR) \
	  ./ci/run-specs $(BUSTED) -- spec 2>&1 | tee build/reports/spec.log
	-python3 -B ci/python-tests 2>&1 | tee build/reports/python-tests.log
	-$(MAKE) --no-print-directory interop-quick 2>&1 | tee build/reports/interop-quick.log
	@./ci/total build/reports/spec.log build/reports/python-tests.log \
	  build/reports/interop-quick.log

spec: test

# The differential run: the same suite against upstream LuaSec, one busted
# process per spec file; every difference must be listed with its reason in
# spec/upstream/divergences.lua. Reads and writes nothing of `make test`
# (results in build/upstream/ or build/upstream-VERSION/).
#   make spec-upstream                 Debian's lua-sec package (1.2.0 on bookworm)
#   make spec-upstream UPSTREAM=1.3.2  the build of ci/upstream-build 1.3.2 (pinned
#                                      in ci/versions, cached like OPENSSL=)
UPSTREAM ?=
ifneq ($(UPSTREAM),)
  UPSTREAM_DEB := $(LUASEC_$(subst .,_,$(UPSTREAM))_DEB)
  UPSTREAM_DIR := $(SSLUA_CACHE)/luasec-$(UPSTREAM_DEB)/lua$(LUA_VERSION)
  ifneq ($(filter spec-upstream,$(MAKECMDGOALS)),)
    ifeq ($(UPSTREAM_DEB),)
      $(error UPSTREAM=$(UPSTREAM) is not pinned in ci/versions)
    endif
    ifeq ($(wildcard $(UPSTREAM_DIR)/.stamp),)
      $(error LuaSec $(UPSTREAM) for Lua $(LUA_VERSION) is not built in $(SSLUA_CACHE): run ci/upstream-build $(UPSTREAM) $(LUA_VERSION))
    endif
  endif
endif
spec-upstream: deps test-deps certs
	@$(if $(UPSTREAM),,./ci/apt-ensure lua-sec)
	SSLUA_CERTS=$(CERTDIR) $(if $(UPSTREAM),SSLUA_UPSTREAM_DIR='$(UPSTREAM_DIR)' \
	  SSLUA_UPSTREAM_VERSION=$(UPSTREAM)) ./ci/spec-upstream $(LUA_BIN)

# Everything CI runs (.ci/run holds the one list): make test, then the
# gates - lint, every Lua, sanitizers, valgrind, fuzzer and bench smoke runs.
check:
	./.ci/run

demo: deps build certs
	@$(PEER_ENV) ./examples/demo.sh $(LUA_BIN) $(LIBDIR) $(SHAREDIR) $(CERTDIR)

# The interop harness (harness.py, interop/): sslua against openssl, GnuTLS,
# Python, Node.js, Java and Go, in both roles and three I/O variants, checked
# against an oracle and against interop/baseline.json; reports in
# build/interop/. A peer that cannot be installed is reported unavailable.
#   make interop            the full matrix (fails on a regression)
#   make interop-quick      a representative subset (under 2 minutes)
#   make interop-baseline   record what is supported now in interop/baseline.json
INTEROP_DEBS := python3 coreutils gnutls-bin nodejs openjdk-17-jdk-headless golang-go
# One baseline per OpenSSL: interop/baseline.json for the system's, and
# interop/baseline-openssl3.5.json for OPENSSL=3.5 and so on.
INTEROP_BASELINE ?= interop/baseline$(if $(OPENSSL),-openssl$(OPENSSL)).json
INTEROP_RUN   = $(PEER_ENV) python3 harness.py --lua $(LUA_BIN) --libdir $(LIBDIR) \
                --sharedir $(SHAREDIR) --certs $(CERTDIR) --baseline $(INTEROP_BASELINE) \
                --out build/interop$(if $(OPENSSL),-openssl$(OPENSSL))
INTEROP_DEPS  = ./ci/apt-ensure $(INTEROP_DEBS) || for p in $(INTEROP_DEBS); do \
                ./ci/apt-ensure $$p || echo "interop: could not install $$p"; done

.PHONY: interop-quick interop-baseline
interop: deps build certs
	@$(INTEROP_DEPS)
	$(INTEROP_RUN)

interop-quick: deps build certs
	@$(INTEROP_DEPS)
	$(INTEROP_RUN) --quick

interop-baseline: deps build certs
	@$(INTEROP_DEPS)
	$(INTEROP_RUN) --update-baseline

# The option-support report (ci/option-report, ci/option-probe.lua): every
# option name, verify flag, protocol and key-exchange group on the system
# OpenSSL and on each of OPTION_REPORT_VERSIONS, effective / no-op /
# dtls-only / unknown with the evidence, in build/reports/options.{json,md,
# html}; fails when something effective became a no-op or unknown, or a
# name has no verdict, against interop/options-openssl<version>.json.
# The spec suite's results for a version (build/reports/openssl-<v>/, as
# ci/openssl-matrix leaves them) join the evidence when present.
OPTION_REPORT_VERSIONS ?= 3.5 3.6
OPTION_REPORT = python3 ci/option-report --lua $(LUA_BIN) --certs $(CERTDIR) \
  --build system=build/$(LUA_VERSION) \
  $(foreach v,$(OPTION_REPORT_VERSIONS),--build $(v)=build/$(LUA_VERSION)-openssl$(v)) \
  $(foreach f,$(wildcard build/reports/openssl-*/junit.xml),--junit $(patsubst build/reports/openssl-%/junit.xml,%,$(f))=$(f))

.PHONY: option-report option-report-baseline option-builds
option-builds: deps certs
	@$(MAKE) --no-print-directory -s OPENSSL= build
	@for v in $(OPTION_REPORT_VERSIONS); do \
	  ./ci/openssl-build $$v >/dev/null && $(MAKE) --no-print-directory -s OPENSSL=$$v build || exit 1; done

option-report: option-builds
	$(OPTION_REPORT)

option-report-baseline: option-builds
	$(OPTION_REPORT) --update-baseline

# Fuzzing (fuzz/). `make fuzz`: the libFuzzer harnesses, FUZZ_SECONDS
# (default 60) each, with fresh random seeds; `make fuzz-quick` (CI)
# builds them all and runs each for 10 s from a fixed seed, so a harness
# that no longer builds fails the gates and a failing run is reproducible.
# `make fuzz-api SEED=1 N=100000`: the Lua API fuzzer under ASan/UBSan
# (SEED may list several seeds); `make fuzz-api-quick`
# is the short CI run (about 20 s). FAIL_ALLOC=K (e.g. 50) also fails one
# allocation in K inside each fuzzed call (faults/README.md).
FUZZ_SECONDS ?= 60
SEED ?= 1
N    ?= 100000
FAIL_ALLOC ?= 0

.PHONY: fuzz fuzz-quick fuzz-api fuzz-api-quick
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run-libfuzzer

fuzz-quick:
	FUZZ_SECONDS=10 FUZZ_SEED=1 ./fuzz/run-libfuzzer

fuzz-api:
	FUZZ_FAIL_ALLOC=$(FAIL_ALLOC) ./fuzz/run-api "$(SEED)" $(N)

fuzz-api-quick:
	./fuzz/run-api "1 2" 6000

# Fault injection and mutation testing (faults/README.md).
# `make alloc-faults`: every allocation (OpenSSL's and Lua's) of every
# scenario fails once, under ASan/UBSan/LSan (long: see faults/README.md);
# `make alloc-faults-quick`: 20 spread over each scenario (CI, about a
# minute). SCENARIOS="x509 sni" limits either to those scenarios.
# `make mutate N=40 SEED=1`: N sampled mutants of src/, each judged by its
# files' specs (slow; not in CI).
MUTATE_N ?= $(if $(filter command line,$(origin N)),$(N),40)

.PHONY: alloc-faults alloc-faults-quick mutate
SCENARIOS ?=
alloc-faults: deps certs
	./faults/run $(SCENARIOS)

alloc-faults-quick: deps certs
	./faults/run --quick $(SCENARIOS)

mutate: deps test-deps certs
	python3 faults/mutate.py --n $(MUTATE_N) --seed $(SEED)

# Benchmarks (bench/, see bench/README.md): `make bench` (about 10 minutes)
# writes build/bench/report.md - ours vs a C reference vs upstream LuaSec,
# with the targets met or missed; `make bench-quick` (under a minute, CI)
# only proves that every driver still works: it fails on a broken driver,
# never on a figure.
BENCH_DEBS := valgrind strace lua-sec lua-copas python3 openssl
BENCH_DIR  := build/bench$(if $(OPENSSL_TAG),-$(OPENSSL_TAG))
BENCH_BINS := $(BENCH_DIR)/ref $(BENCH_DIR)/load
BENCH_RUN   = $(PEER_ENV) python3 bench/run.py --lua $(LUA_BIN) --libdir $(LIBDIR) \
              --sharedir $(SHAREDIR) --certs $(CERTDIR) --ref $(BENCH_DIR)/ref

.PHONY: bench bench-quick
bench: deps build certs $(BENCH_BINS)
	@./ci/apt-ensure $(BENCH_DEBS)
	$(BENCH_RUN) --out $(BENCH_DIR)

bench-quick: deps build certs $(BENCH_BINS)
	@./ci/apt-ensure $(BENCH_DEBS)
	$(BENCH_RUN) --quick --out $(BENCH_DIR)/quick

$(BENCH_DIR)/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 -D_POSIX_C_SOURCE=200809L $(SSL_CFLAGS) $< -o $@ $(SSL_LIBS)

# Load and slow-loris specs in their full form (`make test` runs them short):
# one select-loop Lua server holds LOAD_CONNS TLS connections at once, for
# LOAD_ROUNDS rounds, with no descriptor or RSS growth; LOAD_STALLERS stalled
# handshakes hold up none of LOAD_NORMAL clients and are dropped after
# LOAD_DEADLINE seconds. Prints the figures (spec/load_spec.lua).
LOAD_CONNS    ?= 1000
LOAD_ROUNDS   ?= 5
LOAD_STALLERS ?= 300
LOAD_NORMAL   ?= 500
LOAD_DEADLINE ?= 5

.PHONY: load
load: deps build test-deps certs
	$(PEER_ENV) SSLUA_BUILD=$(BUILD) SSLUA_LUA=$(LUA_BIN) SSLUA_CERTS=$(CERTDIR) \
	  SSLUA_SPEC_REPORTS=build/reports/load SSLUA_SPEC_TIMEOUT=900 \
	  LOAD_CONNS=$(LOAD_CONNS) LOAD_ROUNDS=$(LOAD_ROUNDS) LOAD_STALLERS=$(LOAD_STALLERS) \
	  LOAD_NORMAL=$(LOAD_NORMAL) LOAD_DEADLINE=$(LOAD_DEADLINE) \
	  ./ci/run-specs $(BUSTED) -- spec/load_spec.lua spec/slowloris_spec.lua

# Installing: mk/install-plan.lua asks the Lua interpreter (LUA_BIN) where
# `require` looks, and puts ssl.so in the first directory of its
# package.cpath under PREFIX (on Debian with PREFIX=/usr: /usr/lib/<triplet>/
# lua/5.x, searched before /usr/lib/lua/5.x), ssl.lua and ssl/https.lua
# likewise; or in LUA_CMODDIR and LUA_LMODDIR. It stops, in one line, when
# another file of the module's names would be loaded before ours, or when a
# file in our place is not sslua's. uninstall removes exactly the three
# files install puts there, and their ssl/ directory when that is left empty.
LUA_CMODDIR ?=
LUA_LMODDIR ?=
INSTALL_NO_LUA := sslua: make install asks Lua $(LUA_ABI) where require looks, but LUA_BIN=$(LUA_BIN) \
  is not a command (by default the first of $(LUA_NAMES) on PATH): set LUA_BIN to the Lua $(LUA_ABI) interpreter
install_plan = $(eval INSTALL_PLAN := $(strip $(shell command -v $(LUA_BIN) >/dev/null 2>&1 && \
    $(LUA_BIN) mk/install-plan.lua $(1) $(LUA_ABI) $(call sq,$(PREFIX)) $(call sq,$(DESTDIR)) \
    $(call sq,$(LUA_CMODDIR)) $(call sq,$(LUA_LMODDIR)))))$(if $(INSTALL_PLAN),,$(error \
    $(INSTALL_NO_LUA)))$(if $(filter sslua:,$(firstword $(INSTALL_PLAN))),$(error $(INSTALL_PLAN)))
CMODDIR = $(DESTDIR)$(word 1,$(INSTALL_PLAN))
LMODDIR = $(DESTDIR)$(word 2,$(INSTALL_PLAN))

install: build
	@$(call install_plan,install)
	install -d '$(CMODDIR)' '$(LMODDIR)/ssl'
	install -m 0755 $(LIBDIR)/ssl.so '$(CMODDIR)/ssl.so'
	install -m 0644 $(SHAREDIR)/ssl.lua '$(LMODDIR)/ssl.lua'
	install -m 0644 $(SHAREDIR)/ssl/https.lua '$(LMODDIR)/ssl/https.lua'

uninstall:
	@$(call install_plan,uninstall)
	rm -f '$(CMODDIR)/ssl.so' '$(LMODDIR)/ssl.lua' '$(LMODDIR)/ssl/https.lua'
	@if [ -d '$(LMODDIR)/ssl' ] && [ -z "$$(ls -A '$(LMODDIR)/ssl')" ]; then rmdir '$(LMODDIR)/ssl'; fi

clean:
	rm -rf build
