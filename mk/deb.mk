# mk/deb.mk — build the Debian package libapache2-mod-expect.
#
#   make deb            build build/out/libapache2-mod-expect_<version>_<arch>.deb
#   make deb DEB_OUT=/some/dir     put the .deb there (with the -dbgsym
#                                  package, .buildinfo and .changes)
#   make deb-clean      remove build/out
#
# The package is built with dpkg-buildpackage -us -uc -b in a copy of the
# tree made in a temporary directory (tracked and untracked files that git
# does not ignore, or the tree minus build products when there is no git),
# so the work tree is left as it was. Build dependencies that are missing are
# installed with apt-get when running as root; anyone else is shown the
# apt-get line to run.
#
# Works on its own as well: make -f mk/deb.mk deb

# Included before the Makefile's first target, this file must not become
# the default goal.
deb_saved_default_goal := $(.DEFAULT_GOAL)

DEB_OUT ?= build/out
DEB_TMPDIR ?= $(or $(TMPDIR),/tmp)

.PHONY: deb deb-deps deb-clean

deb: deb-deps
	@set -e; \
	top='$(CURDIR)'; out='$(DEB_OUT)'; \
	case "$$out" in /*) ;; *) out="$$top/$$out" ;; esac; \
	version=$$(dpkg-parsechangelog -l "$$top/debian/changelog" -S Version); \
	upstream=$${version%-*}; \
	arch=$$(dpkg-architecture -qDEB_HOST_ARCH); \
	deb="libapache2-mod-expect_$${version}_$${arch}.deb"; \
	stage=$$(mktemp -d '$(DEB_TMPDIR)/mod_expect-deb.XXXXXX'); \
	trap 'rm -rf "$$stage"' EXIT; \
	src="$$stage/libapache2-mod-expect-$$upstream"; \
	mkdir "$$src"; \
	if git -C "$$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  (cd "$$top" && git ls-files -z --cached --others --exclude-standard) | \
	    (cd "$$top" && tar --null --no-recursion --ignore-failed-read \
	       -T - -cf - 2>/dev/null) | tar -xf - -C "$$src"; \
	else \
	  (cd "$$top" && tar --exclude=./.git --exclude=./build --exclude=./.libs \
	     --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude='*.slo' \
	     --exclude=./t/logs --exclude=./t/TEST --exclude=./debian/.debhelper \
	     -cf - .) | tar -xf - -C "$$src"; \
	fi; \
	test -f "$$src/debian/rules" && test -f "$$src/mod_expect.c" || \
	  { echo "make deb: the copy of the tree in $$src is incomplete" >&2; exit 1; }; \
	echo "make deb: building $$deb in $$src"; \
	(cd "$$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	   dpkg-buildpackage -us -uc -b) > "$$stage/build.log" 2>&1 || \
	  { tail -n 40 "$$stage/build.log" >&2; \
	    echo "make deb: dpkg-buildpackage failed (log above)" >&2; exit 1; }; \
	test -f "$$stage/$$deb" || \
	  { echo "make deb: dpkg-buildpackage did not produce $$deb" >&2; exit 1; }; \
	mkdir -p "$$out"; \
	cp "$$stage"/*.deb "$$out/"; \
	cp "$$stage"/*.buildinfo "$$stage"/*.changes "$$out/" 2>/dev/null || true; \
	echo "make deb: built $$out/$$deb"; \
	echo "make deb: install with: dpkg -i $$out/$$deb && a2enmod expect && apache2ctl restart"

# tools/deps.sh deb: as root, installs what is missing; anyone else is told
# what to run (and the build stops).
deb-deps:
	@bash tools/deps.sh deb

deb-clean:
	rm -rf '$(DEB_OUT)'

.DEFAULT_GOAL := $(deb_saved_default_goal)
