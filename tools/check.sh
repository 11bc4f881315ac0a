#!/usr/bin/env bash
# tools/check.sh — run the Apache::Test suite against the module built in
# .libs/ (what `make check` and `make test` do after building).
#
#   tools/check.sh                      every t/*.t
#   tools/check.sh t/json.t t/proxy.t   only those files
#
# Environment:
#   APACHE_TEST_PORT   first port of the test server (default: Apache::Test's
#                      "select", from 8529 on, moving on when it is taken)
#   APXS, APACHE_TEST_HTTPD   the httpd under test (see t/TEST.PL)
#
# * httpd's children run as `nobody` when the suite runs as root, so they
#   must be able to read the tree. When a parent directory shuts them out (a
#   checkout under /root, say), the suite runs in a world-readable copy.
# * A test file skipped as a whole because a module or program is missing
#   fails the run: nothing passes untested. (Skips for other reasons are
#   listed.)
# * The suite must leave the machine's own httpd configuration alone:
#   /etc/apache2 (or apxs's SYSCONFDIR) and dpkg's status are compared
#   before and after the run, and any difference fails it.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top

# ------------------------------------------------------------ host snapshot
apxs=${APXS:-$(command -v apxs || command -v apxs2 || true)}
watch=(/etc/apache2)
if [ -n "$apxs" ]; then
  sysconf=$("$apxs" -q SYSCONFDIR 2>/dev/null || true)
  [ -n "$sysconf" ] && [ "$sysconf" != /etc/apache2 ] && watch+=("$sysconf")
fi
[ -f /var/lib/dpkg/status ] && watch+=(/var/lib/dpkg/status)

snapshot() {
  local p
  for p in "${watch[@]}"; do
    [ -e "$p" ] || continue
    find "$p" -printf '%p %M %u %g %s %l\n' 2>/dev/null | LC_ALL=C sort
    find "$p" -type f -print0 2>/dev/null | LC_ALL=C sort -z |
      xargs -0r sha256sum 2>/dev/null
  done
}
before=$(mktemp) && after=$(mktemp) || exit 1
trap 'rm -f "$before" "$after"' EXIT
snapshot > "$before"

# ------------------------------------------------------------ the tree
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 &&
   ! runuser -u nobody -- test -r "$dir/t/TEST.PL"; then
  stage=$(mktemp -d /tmp/mod_expect-test.XXXXXX) && chmod 755 "$stage" || exit 1
  echo "make test: $dir is not readable by user nobody; testing a copy in $stage"
  (cd "$dir" && tar --exclude=./.git -cf - .) | tar -xf - -C "$stage" || exit 1
  dir=$stage
fi
cd "$dir" || exit 1
chmod -R a+rX t && cp t/TEST.PL t/TEST && chmod 755 t/TEST || exit 1
find t/htdocs -type f \( -name '*.pl' -o -name '*.cgi' -o -name '*.sh' \) \
  -exec chmod a+rx {} + || exit 1

# ------------------------------------------------------------ the run
t/TEST -clean >/dev/null 2>&1
out=$(mktemp)
t/TEST -port "${APACHE_TEST_PORT:-select}" "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
skipped=$(grep -E '^t/.*skipped: ' "$out" | sed 's/ *\.\.*  *skipped:/:/')
rm -f "$out"
if [ -n "$skipped" ]; then
  echo "make test: test files skipped:"
  echo "$skipped"
  if [ "$rc" -eq 0 ] && echo "$skipped" |
     grep -Eqi 'cannot find|not installed|not found|missing'; then
    echo "make test: something the suite needs is missing (above)"
    rc=1
  fi
fi

snapshot > "$after"
if ! cmp -s "$before" "$after"; then
  echo "make test: the run changed the system's httpd configuration or dpkg's status:"
  diff "$before" "$after" | head -40
  rc=1
fi

if [ "$rc" -eq 0 ]; then
  [ "$dir" != "$top" ] && rm -rf "$dir"
  echo "make test: PASS"
else
  echo "make test: FAIL (exit $rc); server log: $dir/t/logs/error_log"
fi
exit "$rc"
