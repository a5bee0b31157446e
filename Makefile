# sslua - LuaSec-compatible TLS for Lua over OpenSSL 3.
#
#   make                  build for Lua 5.3 into build/5.3/
#   make LUA_VERSION=5.1  (5.2, 5.4, jit) build for another Lua
#   make test             install what is missing, build, make certs, run the specs
#   make demo             the example client and server exchange one line
#   make install          PREFIX=/usr/local DESTDIR=

LUA_VERSION ?= 5.3
PREFIX      ?= /usr/local
DESTDIR     ?=

ifeq ($(LUA_VERSION),jit)
  LUA_PKG   := luajit
  LUA_BIN   := luajit
  LUA_ABI   := 5.1
  LUA_DEBS  := luajit libluajit-5.1-dev lua-socket
else
  LUA_PKG   := lua$(LUA_VERSION)
  LUA_BIN   := lua$(LUA_VERSION)
  LUA_ABI   := $(LUA_VERSION)
  LUA_DEBS  := lua$(LUA_VERSION) liblua$(LUA_VERSION)-dev lua-socket
endif
# Debian names 5.1's headers package liblua5.1-0-dev; liblua5.1-dev is only a
# virtual name, which dpkg never reports installed (apt-get would run each time).
LUA_DEBS := $(subst liblua5.1-dev,liblua5.1-0-dev,$(LUA_DEBS))

BUILD     ?= build/$(LUA_VERSION)
LIBDIR    := $(BUILD)/lib
SHAREDIR  := $(BUILD)/share
OBJDIR    := $(BUILD)/obj
CERTDIR   := build/certs

BUILD_DEBS := gcc make pkg-config libssl-dev openssl
TEST_DEBS  := lua-busted lua-copas

CC      ?= cc
WARN    := -Wall -Wextra
CFLAGS  ?= -O2 -g
LUA_CFLAGS = $(shell pkg-config --cflags $(LUA_PKG) 2>/dev/null)
SSL_CFLAGS = $(shell pkg-config --cflags openssl 2>/dev/null)
SSL_LIBS   = $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
ALL_CFLAGS = $(CFLAGS) $(WARN) -fPIC -std=c99 -D_POSIX_C_SOURCE=200809L \
             -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
             $(LUA_CFLAGS) $(SSL_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS ?=

SRCS    := $(wildcard src/*.c)
HDRS    := $(wildcard src/*.h)
OBJS    := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS))
LUASRC  := src/ssl.lua src/ssl/https.lua

BUSTED  := $(LUA_BIN) /usr/bin/busted
LUA_ENV := LUA_CPATH='$(LIBDIR)/?.so;;' \
           LUA_PATH='$(SHAREDIR)/?.lua;$(SHAREDIR)/?/init.lua;spec/?.lua;;'

.PHONY: all build deps test-deps certs test spec demo install clean interop check
.PHONY: spec-upstream

all: build

build: deps $(LIBDIR)/ssl.so $(SHAREDIR)/ssl.lua $(SHAREDIR)/ssl/https.lua

# Installs only what is missing, so a prepared machine never touches apt.
deps:
	@./ci/apt-ensure $(BUILD_DEBS) $(LUA_DEBS)

test-deps:
	@./ci/apt-ensure $(TEST_DEBS)

$(OBJDIR)/%.o: src/%.c $(HDRS) | $(OBJDIR)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBDIR)/ssl.so: $(OBJS) | $(LIBDIR)
	$(CC) -shared $(LDFLAGS) -o $@ $(OBJS) $(SSL_LIBS) $(EXTRA_LDFLAGS)

$(SHAREDIR)/%.lua: src/%.lua
	@mkdir -p $(dir $@)
	cp $< $@

$(OBJDIR) $(LIBDIR):
	mkdir -p $@

certs:
	@./certs/gen.sh $(CERTDIR)

# The spec suite (ci/run-specs: each spec file in a busted process of its
# own, under a time limit; .busted loads the build SSLUA_BUILD names), the
# interop harness's unit tests, then the quick interop matrix; each prints
# its own "N passed, N failed" and the last line is their sum (ci/total).
test: build test-deps certs
	@mkdir -p build/reports
	-SSLUA_BUILD=$(BUILD) SSLUA_LUA=$(LUA_BIN) SSLUA_CERTS=$(CERTDIR) \
	  ./ci/run-specs $(BUSTED) -- spec 2>&1 | tee build/reports/spec.log
	-python3 -B interop/tests/run.py 2>&1 | tee build/reports/interop-unit.log
	-$(MAKE) --no-print-directory interop-quick 2>&1 | tee build/reports/interop-quick.log
	@./ci/total build/reports/spec.log build/reports/interop-unit.log \
	  build/reports/interop-quick.log

spec: test

# The differential run: the same suite against Debian's upstream LuaSec
# (package lua-sec), one busted process per spec file; every difference
# must be listed with its reason in spec/upstream/divergences.lua. Reads
# and writes nothing of `make test` (results in build/upstream/).
spec-upstream: deps test-deps certs
	@./ci/apt-ensure lua-sec
	SSLUA_CERTS=$(CERTDIR) ./ci/spec-upstream $(LUA_BIN)

# Everything CI runs (.ci/run holds the one list): make test, then the
# gates - lint, every Lua, sanitizers, valgrind, fuzzer and bench smoke runs.
check:
	./.ci/run

demo: build certs
	@./examples/demo.sh $(LUA_BIN) $(LIBDIR) $(SHAREDIR) $(CERTDIR)

# The interop harness (harness.py, interop/): sslua against openssl, GnuTLS,
# Python, Node.js, Java and Go, in both roles and three I/O variants, checked
# against an oracle and against interop/baseline.json; reports in
# build/interop/. A peer that cannot be installed is reported unavailable.
#   make interop            the full matrix (fails on a regression)
#   make interop-quick      a representative subset (under 2 minutes)
#   make interop-baseline   record what is supported now in interop/baseline.json
INTEROP_DEBS := python3 coreutils gnutls-bin nodejs openjdk-17-jdk-headless golang-go
INTEROP_RUN   = python3 harness.py --lua $(LUA_BIN) --libdir $(LIBDIR) \
                --sharedir $(SHAREDIR) --certs $(CERTDIR)
INTEROP_DEPS  = ./ci/apt-ensure $(INTEROP_DEBS) || for p in $(INTEROP_DEBS); do \
                ./ci/apt-ensure $$p || echo "interop: could not install $$p"; done

.PHONY: interop-quick interop-baseline
interop: build certs
	@$(INTEROP_DEPS)
	$(INTEROP_RUN)

interop-quick: build certs
	@$(INTEROP_DEPS)
	$(INTEROP_RUN) --quick

interop-baseline: build certs
	@$(INTEROP_DEPS)
	$(INTEROP_RUN) --update-baseline

# Fuzzing (fuzz/). `make fuzz`: the libFuzzer harnesses, FUZZ_SECONDS
# (default 60) each. `make fuzz-api SEED=1 N=100000`: the Lua API fuzzer
# under ASan/UBSan (SEED may list several seeds); `make fuzz-api-quick`
# is the short CI run (about 20 s).
FUZZ_SECONDS ?= 60
SEED ?= 1
N    ?= 100000

.PHONY: fuzz fuzz-api fuzz-api-quick
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run-libfuzzer

fuzz-api:
	./fuzz/run-api "$(SEED)" $(N)

fuzz-api-quick:
	./fuzz/run-api "1 2" 6000

# Benchmarks (bench/, see bench/README.md): `make bench` (about 10 minutes)
# writes build/bench/report.md - ours vs a C reference vs upstream LuaSec,
# with the targets met or missed; `make bench-quick` (under a minute, CI)
# only proves that every driver still works: it fails on a broken driver,
# never on a figure.
BENCH_DEBS := valgrind lua-sec lua-copas python3 openssl
BENCH_RUN   = python3 bench/run.py --lua $(LUA_BIN) --libdir $(LIBDIR) \
              --sharedir $(SHAREDIR) --certs $(CERTDIR) --ref build/bench/ref

.PHONY: bench bench-quick
BENCH_BINS := build/bench/ref build/bench/load

bench: build certs $(BENCH_BINS)
	@./ci/apt-ensure $(BENCH_DEBS)
	$(BENCH_RUN) --out build/bench

bench-quick: build certs $(BENCH_BINS)
	@./ci/apt-ensure $(BENCH_DEBS)
	$(BENCH_RUN) --quick --out build/bench/quick

build/bench/%: bench/%.c
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
load: build test-deps certs
	SSLUA_BUILD=$(BUILD) SSLUA_LUA=$(LUA_BIN) SSLUA_CERTS=$(CERTDIR) \
	  SSLUA_SPEC_REPORTS=build/reports/load SSLUA_SPEC_TIMEOUT=900 \
	  LOAD_CONNS=$(LOAD_CONNS) LOAD_ROUNDS=$(LOAD_ROUNDS) LOAD_STALLERS=$(LOAD_STALLERS) \
	  LOAD_NORMAL=$(LOAD_NORMAL) LOAD_DEADLINE=$(LOAD_DEADLINE) \
	  ./ci/run-specs $(BUSTED) -- spec/load_spec.lua spec/slowloris_spec.lua

install: build
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI) $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/ssl
	install -m 0755 $(LIBDIR)/ssl.so $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI)/ssl.so
	install -m 0644 $(SHAREDIR)/ssl.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/ssl.lua
	install -m 0644 $(SHAREDIR)/ssl/https.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/ssl/https.lua

clean:
	rm -rf build
