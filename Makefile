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

BUILD     ?= build/$(LUA_VERSION)
LIBDIR    := $(BUILD)/lib
SHAREDIR  := $(BUILD)/share
OBJDIR    := $(BUILD)/obj
CERTDIR   := build/certs

BUILD_DEBS := gcc make pkg-config libssl-dev openssl
TEST_DEBS  := lua-busted

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

# The spec suite; the last line is busted's "N successes / N failures" and
# ci/summary turns it into the plain "N passed, N failed".
test: build test-deps certs
	@mkdir -p build/reports
	$(LUA_ENV) SSLUA_LUA=$(LUA_BIN) SSLUA_CERTS=$(CERTDIR) \
	  ./ci/run-specs $(BUSTED) spec

spec: test

# The CI gates, runnable locally: specs, every Lua, sanitizers, lint.
check: test
	./ci/matrix
	./ci/sanitize
	./ci/lint

demo: build certs
	@./examples/demo.sh $(LUA_BIN) $(LIBDIR) $(SHAREDIR) $(CERTDIR)

# Until the interop harness lands, the demo is the main job.
interop: demo

install: build
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI) $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/ssl
	install -m 0755 $(LIBDIR)/ssl.so $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI)/ssl.so
	install -m 0644 $(SHAREDIR)/ssl.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/ssl.lua
	install -m 0644 $(SHAREDIR)/ssl/https.lua $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/ssl/https.lua

clean:
	rm -rf build
