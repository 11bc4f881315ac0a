#!/usr/bin/env bash
# tools/deps.sh — make sure the packages that build, run and test mod_expect
# are installed (Debian/Ubuntu). One group per make target:
#
#   tools/deps.sh build   a compiler, apxs and httpd: `make`, `make run`
#   tools/deps.sh run     the same as build
#   tools/deps.sh test    build plus the Apache::Test suite's needs
#   tools/deps.sh deb     what `make deb` needs (debhelper, dh_apache2)
#   tools/deps.sh test-deb   deb plus what `make test-deb` needs
#   tools/deps.sh bench|sanitize|fuzz|soak|interop|wire   what those make targets need
#   tools/deps.sh matrix  test plus what building httpd and APR from their
#                         release sources needs (make test-matrix)
#
# Missing packages are installed with apt-get when running as root. Anyone
# else gets the exact command to run and a non-zero exit status.
set -euo pipefail

what=${1:-test}

build_pkgs=(build-essential apache2 apache2-dev curl)
# Apache::Test comes with mod_perl's package; LWP and HTTP::Response with
# libwww-perl; nghttp for the HTTP/2 tests; openssl (the suite's
# certificates) and IO::Socket::SSL for the TLS tests; PHP-FPM behind
# mod_proxy_fcgi in the composition table (t/compose.t starts a pool of its
# own; the package's service is left alone)
test_pkgs=(libapache2-mod-perl2 libwww-perl nghttp2-client openssl
           libio-socket-ssl-perl php-fpm)

# make deb: dpkg-buildpackage with debhelper; dh_apache2 comes with
# apache2-dev on Debian 12 (in a package of its own, dh-apache2, where the
# distribution has one)
deb_pkgs=(build-essential dpkg-dev fakeroot debhelper apache2-dev)
if ! command -v dh_apache2 >/dev/null 2>&1 &&
   apt-cache show dh-apache2 >/dev/null 2>&1; then
  deb_pkgs+=(dh-apache2)
fi
# make test-deb: the package against apache2's own tools (a2enmod,
# apache2ctl), requests through t/lib's client (HTTP::Response)
test_deb_pkgs=(apache2 libwww-perl)

# make sanitize preloads gcc's libasan/libubsan into httpd
sanitize_pkgs=(libgcc-12-dev)
# make fuzz: libFuzzer comes with Debian's clang
fuzz_pkgs=(clang libclang-rt-14-dev)
# make soak: wrk for HTTP/1.1 load, h2load (nghttp2-client) for HTTP/2
soak_pkgs=(wrk nghttp2-client curl)
# make bench: wrk (HTTP/1.x load), valgrind (callgrind), h2load
# (nghttp2-client) for h2c, ab (apache2-utils) to look at the request it sends
bench_pkgs=(wrk valgrind nghttp2-client apache2-utils)
# make interop: the real clients it drives (Java 17, Go, Node.js, Python
# aiohttp, the AWS CLI), openssl for its certificate; all from Debian's archive
interop_pkgs=(openjdk-17-jdk-headless golang-go nodejs python3 python3-aiohttp
              awscli openssl ca-certificates curl)
# make test-matrix builds httpd releases from their git trees (buildconf:
# autoconf, libtool) against the system's APR (2.4.52+) or APR 1.6 from
# source (2.4.37, whose APR-util needs expat); PCRE through pcre-config up to
# 2.4.52, pcre2-config later; mod_ssl, mod_http2, mod_deflate and mod_lua
# need OpenSSL, nghttp2, zlib and Lua 5.3.
matrix_pkgs=(build-essential autoconf automake libtool libtool-bin make xz-utils
             libapr1-dev libaprutil1-dev libpcre3-dev libpcre2-dev libssl-dev
             libnghttp2-dev zlib1g-dev libexpat1-dev liblua5.3-dev)
# make fuzz-wire and t/wire_replay.t: Perl's TLS client (Net::SSLeay),
# openssl for the throw-away certificate, nghttp for HTTP/2; the rest is
# Perl's core.
wire_pkgs=(libnet-ssleay-perl openssl nghttp2-client)

case $what in
  build|run) pkgs=("${build_pkgs[@]}") ;;
  test)     pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${wire_pkgs[@]}") ;;
  deb)      pkgs=("${deb_pkgs[@]}") ;;
  test-deb) pkgs=("${deb_pkgs[@]}" "${test_deb_pkgs[@]}") ;;
  bench)    pkgs=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  sanitize) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${wire_pkgs[@]}" "${sanitize_pkgs[@]}") ;;
  fuzz)     pkgs=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  soak)     pkgs=("${build_pkgs[@]}" "${soak_pkgs[@]}") ;;
  matrix)   pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${wire_pkgs[@]}" "${matrix_pkgs[@]}") ;;
  wire)     pkgs=("${build_pkgs[@]}" "${wire_pkgs[@]}") ;;
  interop)  pkgs=("${build_pkgs[@]}" "${interop_pkgs[@]}") ;;
  *) echo "usage: $0 build|run|test|deb|test-deb|bench|sanitize|fuzz|soak|interop|matrix|wire" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  # Not a Debian-style system: check the tools only and say what is needed.
  case $what in
    deb|test-deb) echo "deps: make $what needs a Debian-style system (dpkg, apt-get)" >&2; exit 1 ;;
  esac
  missing=()
  command -v apxs >/dev/null 2>&1 || missing+=(apxs)
  if [ "$what" = test ]; then
    perl -MApache::Test -e1 2>/dev/null || missing+=(Apache::Test)
    perl -MLWP::UserAgent -e1 2>/dev/null || missing+=(LWP::UserAgent)
    perl -MIO::Socket::SSL -e1 2>/dev/null || missing+=(IO::Socket::SSL)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    compgen -G '/usr/sbin/php-fpm*' >/dev/null || command -v php-fpm >/dev/null 2>&1 ||
      missing+=(php-fpm)
  fi
  if [ "$what" = bench ]; then
    for tool in wrk valgrind h2load; do
      command -v $tool >/dev/null 2>&1 || missing+=($tool)
    done
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: missing ${missing[*]}; install them with your system's package manager" >&2
    exit 1
  fi
  exit 0
fi

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${pkgs[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: these packages are missing: ${missing[*]}" >&2
  echo "deps: install them with:" >&2
  echo "sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
