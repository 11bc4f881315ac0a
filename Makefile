# mod_expect — build, install, test and demo.
#
#   make              build .libs/mod_expect.so with apxs (warnings are errors)
#   make install      install the module (and conf/expect.{load,conf} into
#                     mods-available on Debian-style layouts: `a2enmod expect`)
#   make test         install what is missing, build, run the Apache::Test suite
#   make test-deb     build the Debian package and test it in a throw-away copy
#                     of the system's apache2 configuration
#   make run          install what is missing, build, serve the demo (PORT=8080)
#   make clean        remove build and test products
#
# `make test TESTS="t/continue.t t/curl.t"` runs only those files;
# `make check` runs the suite without looking for missing packages.

SHELL := /bin/bash

APXS ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null)

# Extra compiler/linker flags, e.g. a sanitizer build:
#   make clean all EXTRA_CFLAGS="-fsanitize=address,undefined -g" EXTRA_LDFLAGS=-fsanitize=address,undefined
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

WARNINGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
APXS_FLAGS = $(foreach f,$(WARNINGS) $(EXTRA_CFLAGS),-Wc,$(f)) \
             $(foreach f,$(EXTRA_LDFLAGS),-Wl,$(f))

# mod_expect.c first: apxs names the module after its first source file.
SRC = mod_expect.c expect_capture.c expect_counters.c expect_parse.c
HDR = expect_capture.h expect_compat.h expect_counters.h expect_parse.h
SO  = .libs/mod_expect.so

TESTS ?=

.PHONY: all install test check test-deb run clean apxs-present

all: $(SO)

$(SO): $(SRC) $(HDR) Makefile | apxs-present
	$(APXS) -c -o mod_expect.la $(APXS_FLAGS) $(SRC)

apxs-present:
	@if [ -z "$(APXS)" ]; then \
	  echo "make: apxs not found; 'make test' and 'make run' install it, or run: tools/deps.sh build" >&2; \
	  exit 1; \
	fi

install: all
	$(APXS) -i -n expect mod_expect.la
	@conf_dir=$$($(APXS) -q SYSCONFDIR); \
	if [ -d "$$conf_dir/mods-available" ]; then \
	  install -m 644 conf/expect.load conf/expect.conf "$$conf_dir/mods-available/" && \
	  echo "installed $$conf_dir/mods-available/expect.load and expect.conf; enable with: a2enmod expect"; \
	fi

test:
	@$(SHELL) tools/deps.sh test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check

# The suite itself is tools/check.sh: APACHE_TEST_PORT=N picks the test
# server's base port; see the script for what makes a run fail.
check: all
	@APXS='$(APXS)' $(SHELL) tools/check.sh $(TESTS)

# The Debian package, built with `make deb` and tested against a throw-away
# copy of the system's apache2 configuration (tools/test-deb.t); nothing is
# installed into the system. MOD_EXPECT_DEB=file.deb tests that file.
test-deb:
	@$(SHELL) tools/deps.sh test-deb
	@prove -v tools/test-deb.t

run:
	@$(SHELL) tools/deps.sh build
	@$(MAKE) --no-print-directory all
	@$(SHELL) tools/demo.sh

clean:
	@if [ -x t/TEST ]; then t/TEST -clean >/dev/null 2>&1 || true; fi
	rm -rf .libs *.o *.lo *.la *.slo
	rm -f t/TEST t/conf/modules.conf
	rm -rf t/logs t/state t/conf/tls
	rm -rf t/probe/.libs t/probe/*.o t/probe/*.lo t/probe/*.la t/probe/*.slo

# Further targets (fuzz, sanitize, soak, bench, deb) live in mk/*.mk.
-include mk/*.mk
