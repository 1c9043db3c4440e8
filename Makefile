# reglo — one Makefile for the whole tree.
#
#   make            build the programs (build/)
#   make check      install missing packages, build with sanitizers, run every test
#   make demo       end-to-end demonstration on private loopback instances
#   make deps       install the Debian 12 packages (as root)
#   make install    PREFIX/DESTDIR aware install

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/reglo
SYSCONFDIR ?= /etc/reglo
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=

# Every Debian 12 package the build, the tests, the demo and the benchmarks need: listed once.
DEBS = build-essential pkg-config python3 \
       libmilter-dev libgmime-3.0-dev libcurl4-openssl-dev libqrencode-dev libpq-dev \
       libconfuse-dev libmicrohttpd-dev libjansson-dev libpng-dev libssl-dev \
       libpoppler-glib-dev libxml2-dev check \
       postgresql postfix miltertest zbar-tools swaks qrencode poppler-utils curl openssl \
       chromium wrk nginx clang libclang-rt-14-dev

PKGS = glib-2.0 gmime-3.0 libxml-2.0 poppler-glib jansson libcrypto libcurl libqrencode libpng \
       libpq libconfuse milter libmicrohttpd

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
  BUILD    ?= build/san
  SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  OPT      = -O1 -g
else
  BUILD    ?= build
  SANFLAGS =
  OPT      = -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS  ?= $(OPT)
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-deprecated-declarations \
           -Ilib -I$(BUILD)/gen $(PKG_CFLAGS) $(SANFLAGS) -DREGLO_DATADIR='"$(DATADIR)"'
LDFLAGS += $(SANFLAGS)

LIB_SRC    := $(wildcard lib/*.c)
MILTER_SRC := $(wildcard milter/*.c)
CLI_SRC    := $(wildcard cli/*.c)
GATEWAY_SRC := $(wildcard gateway/*.c gateway/psp/*.c gateway/portal/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/sqltext.o
SQL_SRC    := $(wildcard sql/*.sql sql/query/*.sql)
MILTER_OBJ := $(MILTER_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The gateway's modules but main, as an archive the unit tests link too.
GATEWAY_OBJ := $(filter-out $(BUILD)/gateway/main.o,$(GATEWAY_SRC:%.c=$(BUILD)/%.o))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

PROGS = $(BUILD)/reglo-milter $(BUILD)/reglo $(BUILD)/reglo-gateway

.PHONY: all deps check unit demo bench install clean san fuzz
all: $(PROGS)

# V=1 shows the whole command lines.
Q = $(if $(filter 1,$(V)),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# SQL lives in sql/; it is compiled into the programs so they carry their schema.
$(BUILD)/gen/sqltext.c $(BUILD)/gen/sqltext.h: $(SQL_SRC) tools/embed-sql
	python3 tools/embed-sql $(BUILD)/gen sql

$(BUILD)/gen/sqltext.o: $(BUILD)/gen/sqltext.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_OBJ) $(MILTER_OBJ) $(CLI_OBJ) $(GATEWAY_OBJ) $(BUILD)/gateway/main.o: | $(BUILD)/gen/sqltext.h

$(BUILD)/libreglo.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/reglo-milter: $(MILTER_OBJ) $(BUILD)/libreglo.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/reglo: $(CLI_OBJ) $(BUILD)/libreglo.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/libgateway.a: $(GATEWAY_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/reglo-gateway: $(BUILD)/gateway/main.o $(BUILD)/libgateway.a $(BUILD)/libreglo.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libgateway.a $(BUILD)/libreglo.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

unit-bins: $(UNIT_BIN)

include tests/fuzz/fuzz.mk
FUZZ_SECONDS ?= 60
# Each target over its seeds, then FUZZ_SECONDS of fuzzing each (make check: the seeds only).
fuzz: deps
	$(MAKE) SAN=1 all fuzz-bins
	tests/fuzz/run build/san $(FUZZ_SECONDS)

# Install the packages that are missing (needs root; a no-op when all are present).
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && \
	  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

san:
	$(MAKE) SAN=1 all unit-bins

check: deps
	$(MAKE) SAN=1 all unit-bins fuzz-bins
	tests/run-all build/san

unit: san
	tests/run-unit build/san

demo: deps all
	tests/demo/run build

# Each benchmark writes its report in bench/out/; bench/compose makes bench/RESULTS.md of them.
bench: deps all
	bench/run build
	bench/gateway.sh build
	bench/reminders.sh build
	bench/portal.sh build
	bench/compose

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql \
	           $(DESTDIR)$(DATADIR)/templates/fr $(DESTDIR)$(DATADIR)/templates/en \
	           $(DESTDIR)$(DATADIR)/templates/static $(DESTDIR)$(DATADIR)/templates/portal \
	           $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/reglo-milter $(BUILD)/reglo-gateway $(DESTDIR)$(SBINDIR)/
	install -m 755 $(BUILD)/reglo $(DESTDIR)$(BINDIR)/
	install -m 644 sql/*.sql $(DESTDIR)$(DATADIR)/sql/
	install -m 644 templates/fr/* $(DESTDIR)$(DATADIR)/templates/fr/
	install -m 644 templates/en/* $(DESTDIR)$(DATADIR)/templates/en/
	install -m 644 templates/static/* $(DESTDIR)$(DATADIR)/templates/static/
	install -m 644 templates/portal/* $(DESTDIR)$(DATADIR)/templates/portal/
	install -m 640 conf/reglo.conf.example $(DESTDIR)$(SYSCONFDIR)/reglo.conf.example
	install -m 644 systemd/*.service $(DESTDIR)$(UNITDIR)/

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
