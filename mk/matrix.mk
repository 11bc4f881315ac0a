# mk/matrix.mk — the module and its whole test suite on several httpd releases.
#
#   make test-matrix        build httpd 2.4.37 (with APR 1.6.5 / APR-util
#                           1.6.3), 2.4.52, 2.4.58 and 2.4.62 (with the
#                           system's APR 1.7) from the release sources, build
#                           the module against each and run the suite against
#                           each, then against the system's httpd; prints a
#                           table and fails if any release fails
#   make test-matrix MATRIX_RELEASES="2.4.37 system"   only these
#   make test-matrix MATRIX_TESTS="t/continue.t"       only these test files
#   make matrix-httpd       only build (or find in the cache) the releases
#   make matrix-clean       remove the cache (every release, every build key)
#
# Where things are:
#   HTTPD_SRC     the release archives (httpd-<release>.tar.xz,
#                 apr-1.6.5.tar.xz, apr-util-1.6.3.tar.xz); default: the
#                 first shared/httpd-src beside the tree or above it
#                 (../shared/httpd-src, ../../shared/httpd-src, ...), else
#                 /work/shared/httpd-src
#   MATRIX_CACHE  the builds, kept between runs: one directory per release
#                 and build key; default /var/cache/mod_expect-matrix for
#                 root, else $XDG_CACHE_HOME (or ~/.cache)/mod_expect-matrix.
#                 Removing it only costs the next run the builds.
#
# Each release runs in its own copy of the tree (the work tree is not built
# in) on its own base port (MATRIX_PORT_BASE, default 10400, +100 per
# release). Missing build packages (tools/deps.sh matrix) are installed with
# apt-get when running as root. See tools/matrix.sh and tools/matrix-httpd.sh.
#
# Works on its own as well: make -f mk/matrix.mk test-matrix

# Included before the Makefile's first target, this file must not become
# the default goal.
matrix_saved_default_goal := $(.DEFAULT_GOAL)

MATRIX_RELEASES ?= 2.4.37 2.4.52 2.4.58 2.4.62 system
MATRIX_TOP      := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

# The scripts read HTTPD_SRC and the MATRIX_* settings from the environment
# (make passes on what is given on its command line by itself); without
# HTTPD_SRC, tools/matrix-httpd.sh looks for the sources.

.PHONY: test-matrix matrix-httpd matrix-deps matrix-clean

matrix-deps:
	@$(MATRIX_TOP)/tools/deps.sh matrix

matrix-httpd: matrix-deps
	@set -e; for r in $(filter-out system,$(MATRIX_RELEASES)); do \
	  $(MATRIX_TOP)/tools/matrix-httpd.sh $$r; \
	done

test-matrix: matrix-deps
	@$(MATRIX_TOP)/tools/matrix.sh $(MATRIX_RELEASES)

matrix-clean:
	@cache=$$($(MATRIX_TOP)/tools/matrix-httpd.sh --cache-dir) && \
	  echo "removing $$cache" && rm -rf "$$cache"

.DEFAULT_GOAL := $(matrix_saved_default_goal)
