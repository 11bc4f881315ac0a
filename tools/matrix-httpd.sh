#!/usr/bin/env bash
# tools/matrix-httpd.sh — build one httpd release from source into the
# matrix cache, or reuse the build that is already there.
#
#   tools/matrix-httpd.sh 2.4.52        prints the install prefix on stdout
#   tools/matrix-httpd.sh --cache-dir   prints where builds are kept
#
# Environment:
#   HTTPD_SRC     directory with httpd-<release>.tar.xz (and apr-1.6.5.tar.xz,
#                 apr-util-1.6.3.tar.xz for 2.4.37); default: the first
#                 shared/httpd-src beside the tree or above it
#                 (../shared/httpd-src, ../../shared/httpd-src, ...), else
#                 /work/shared/httpd-src
#   MATRIX_CACHE  where builds are kept (see cache_dir below)
#   MATRIX_JOBS   make -j for the build (default 2)
#
# A build is kept as MATRIX_CACHE/httpd-<release>-<key>, where <key> is a hash
# of everything that decides what gets built: the source archives' SHA-256,
# the configure options and RECIPE below. The build is installed into a
# temporary directory beside it (make install DESTDIR=...) and renamed into
# place only when it is complete, so a directory with the final name is
# always a finished build; an interrupted build leaves only a .tmp-* directory,
# which the next run removes. A lock per key keeps two runs from building the
# same release at once. The log of the build is kept in the prefix as
# matrix-build.log; the seconds it took in matrix-build.seconds.
#
# Only what the test suite needs is built: the modules in MODULES (shared),
# mpm_event and mpm_prefork (shared), no manual. 2.4.37 is built against
# APR 1.6.5 and APR-util 1.6.3 (httpd's --with-included-apr; they are
# installed into the same prefix) and without mod_ssl, whose 2.4.37 version
# does not load with OpenSSL 3. Later releases use the system's APR 1.7.
set -euo pipefail
# The whole script is one block, read before any of it runs: a build that
# is under way is not disturbed when the file changes.
{

top=$(cd "$(dirname "$0")/.." && pwd)

# Bump when the way a build is made changes, so that old builds are not reused.
RECIPE=1

MODULES="alias auth_basic authn_core authn_file authz_core authz_host authz_user
         env headers lua mime rewrite setenvif status proxy proxy_http http2
         proxy_http2 cgid log_config unixd dir cache cache_disk deflate dav
         dav_fs reqtimeout proxy_fcgi log_forensic version macro
         socache_shmcb"

die() { echo "matrix-httpd: $*" >&2; exit 1; }

cache_dir() {
  if [ -n "${MATRIX_CACHE:-}" ]; then
    echo "$MATRIX_CACHE"
  elif [ "$(id -u)" = 0 ]; then
    echo /var/cache/mod_expect-matrix
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/mod_expect-matrix"
  fi
}

release=${1:-}
case $release in
  2.4.[0-9]*) ;;
  --cache-dir) cache_dir; exit 0 ;;
  *) die "usage: $0 <httpd release, e.g. 2.4.52> | --cache-dir" ;;
esac

# The release sources: HTTPD_SRC, else shared/httpd-src in the nearest
# directory above the tree that has one, else /work/shared/httpd-src.
find_sources() {
  local d=$(cd "$top/.." && pwd)
  while :; do
    [ -d "$d/shared/httpd-src" ] && { echo "$d/shared/httpd-src"; return; }
    [ "$d" = / ] && break
    d=$(dirname "$d")
  done
  [ -d /work/shared/httpd-src ] && echo /work/shared/httpd-src
}
src_dir=${HTTPD_SRC:-$(find_sources)}
[ -n "$src_dir" ] && [ -d "$src_dir" ] ||
  die "no httpd release sources (shared/httpd-src above $top, or HTTPD_SRC=<dir with httpd-$release.tar.xz>)"
src_dir=$(cd "$src_dir" && pwd)
archive=$src_dir/httpd-$release.tar.xz
[ -f "$archive" ] || die "$archive not found (set HTTPD_SRC=)"

cache=$(cache_dir)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Versions older than 2.4.44 get the APR 1.6 generation and no mod_ssl.
minor=${release#2.4.}
bundled_apr=no
modules=$MODULES
if [ "$minor" -lt 44 ]; then
  bundled_apr=yes
else
  modules="$modules ssl"
fi
if [ "$minor" -le 52 ]; then
  pcre=$(command -v pcre-config || true)
  [ -n "$pcre" ] || die "pcre-config not found (Debian: libpcre3-dev)"
else
  pcre=$(command -v pcre2-config || true)
  [ -n "$pcre" ] || die "pcre2-config not found (Debian: libpcre2-dev)"
fi

sums="httpd-$release.tar.xz $(sha256sum "$archive" | cut -d' ' -f1)"
if [ $bundled_apr = yes ]; then
  apr_archive=$src_dir/apr-1.6.5.tar.xz
  apu_archive=$src_dir/apr-util-1.6.3.tar.xz
  [ -f "$apr_archive" ] && [ -f "$apu_archive" ] ||
    die "httpd $release needs $apr_archive and $apu_archive"
  sums="$sums
apr-1.6.5.tar.xz $(sha256sum "$apr_archive" | cut -d' ' -f1)
apr-util-1.6.3.tar.xz $(sha256sum "$apu_archive" | cut -d' ' -f1)"
  # APR-util's optional database and LDAP drivers are left out: the suite
  # needs none of them, and what is found would differ from host to host.
  apr_opts=(--with-included-apr --with-expat=/usr
            --without-pgsql --without-mysql --without-sqlite3 --without-sqlite2
            --without-odbc --without-oracle --without-freetds --without-ldap
            --without-berkeley-db --without-gdbm --without-ndbm)
  buildconf_opts=()
else
  apr_config=$(command -v apr-1-config || true)
  apu_config=$(command -v apu-1-config || true)
  [ -n "$apr_config" ] && [ -n "$apu_config" ] ||
    die "apr-1-config/apu-1-config not found (Debian: libapr1-dev libaprutil1-dev)"
  apr_opts=(--with-apr="$apr_config" --with-apr-util="$apu_config")
  buildconf_opts=("${apr_opts[@]}")
  sums="$sums
apr $("$apr_config" --version) apr-util $("$apu_config" --version)"
fi

# mod_proxy switches on its sub-modules by default; the suite needs only
# proxy_http, proxy_http2 and proxy_fcgi.
unneeded="proxy-connect proxy-ftp proxy-scgi proxy-uwsgi proxy-fdpass
          proxy-wstunnel proxy-ajp proxy-balancer proxy-express proxy-hcheck
          lbmethod-byrequests lbmethod-bytraffic lbmethod-bybusyness
          lbmethod-heartbeat"
conf_opts=(--enable-modules=none
           --enable-mods-shared="$(echo $modules)"
           $(printf -- '--disable-%s ' $unneeded)
           --enable-mpms-shared="event prefork" --with-mpm=event
           --with-pcre="$pcre" "${apr_opts[@]}")

key=$(printf 'recipe %s\n%s\n%s\n' "$RECIPE" "$sums" "${conf_opts[*]}" |
      sha256sum | cut -c1-12)
name=httpd-$release-$key
prefix=$cache/$name

if [ -x "$prefix/bin/apxs" ] && [ -x "$prefix/bin/httpd" ]; then
  echo "matrix-httpd: $release: reusing $prefix" >&2
  echo "$prefix"
  exit 0
fi

# One builder per key. flock comes with util-linux; without it, go on unlocked.
exec 9>"$cache/.lock-$name"
if command -v flock >/dev/null 2>&1; then
  flock 9
  if [ -x "$prefix/bin/apxs" ]; then
    echo "matrix-httpd: $release: reusing $prefix (built meanwhile)" >&2
    echo "$prefix"
    exit 0
  fi
fi

# Leftovers of interrupted builds of this key: nobody holds the lock, so
# nobody is working in them.
rm -rf "$cache/.tmp-$name".*
[ -e "$prefix" ] && rm -rf "$prefix"   # a final name without apxs: not ours

tmp=$(mktemp -d "$cache/.tmp-$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/matrix-build.log
jobs=${MATRIX_JOBS:-2}

echo "matrix-httpd: $release: building into $prefix (log: $log)" >&2
start=$(date +%s)
(
  printf 'recipe %s\n%s\nconfigure %s\n' "$RECIPE" "$sums" "${conf_opts[*]}"
  set -x
  cd "$tmp"
  tar -xJf "$archive"
  cd "httpd-$release"
  if [ $bundled_apr = yes ]; then
    mkdir -p srclib/apr srclib/apr-util
    tar -xJf "$apr_archive" -C srclib/apr --strip-components=1
    tar -xJf "$apu_archive" -C srclib/apr-util --strip-components=1
    # The APR archives come bootstrapped; pointing buildconf at them by
    # absolute path keeps it from regenerating them (which needs Python 2).
    buildconf_opts=(--with-apr="$PWD/srclib/apr" --with-apr-util="$PWD/srclib/apr-util")
  fi
  ./buildconf "${buildconf_opts[@]}"
  ./configure --prefix="$prefix" "${conf_opts[@]}"
  make -j"$jobs"
  make install DESTDIR="$tmp/root"
) > "$log" 2>&1 || {
  tail -n 40 "$log" >&2
  die "$release: build failed (log above)"
}
end=$(date +%s)

staged=$tmp/root$prefix
[ -x "$staged/bin/apxs" ] && [ -x "$staged/bin/httpd" ] ||
  die "$release: make install did not produce bin/apxs and bin/httpd"
for m in $modules mpm_event mpm_prefork; do
  [ -f "$staged/modules/mod_$m.so" ] || die "$release: mod_$m.so was not built"
done
echo $((end - start)) > "$staged/matrix-build.seconds"
cp "$log" "$staged/matrix-build.log"
mv "$staged" "$prefix"
echo "matrix-httpd: $release: built in $((end - start))s: $prefix" >&2
echo "$prefix"
exit
}
