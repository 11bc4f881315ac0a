#!/usr/bin/env bash
# tools/deps.sh — make sure the packages that build, run and test mod_expect
# are installed (Debian/Ubuntu).
#
#   tools/deps.sh build   apxs and httpd: enough for `make` and `make run`
#   tools/deps.sh test    the above plus the Apache::Test suite's needs
#   tools/deps.sh sanitize|fuzz|soak|wire   what those make targets need
#
# Missing packages are installed with apt-get when running as root. Anyone
# else gets the exact command to run and a non-zero exit status.
set -euo pipefail

what=${1:-test}

build_pkgs=(apache2 apache2-dev curl)
# t/deb.t builds the Debian package (debhelper; dh_apache2 comes with apache2-dev)
test_pkgs=(libapache2-mod-perl2 libwww-perl nghttp2-client
           build-essential dpkg-dev fakeroot debhelper)

# make sanitize preloads gcc's libasan/libubsan into httpd
sanitize_pkgs=(libgcc-12-dev)
# make fuzz: libFuzzer comes with Debian's clang; lld links the targets
fuzz_pkgs=(clang libclang-rt-14-dev lld)
# make soak: wrk for HTTP/1.1 load, h2load (nghttp2-client) for HTTP/2
soak_pkgs=(wrk nghttp2-client curl)
# make fuzz-wire and t/wire_replay.t: Perl's TLS client (Net::SSLeay),
# openssl for the throw-away certificate, nghttp for HTTP/2; the rest is
# Perl's core.
wire_pkgs=(libnet-ssleay-perl openssl nghttp2-client)

case $what in
  build)    pkgs=("${build_pkgs[@]}") ;;
  test)     pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${wire_pkgs[@]}") ;;
  sanitize) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${wire_pkgs[@]}" "${sanitize_pkgs[@]}") ;;
  fuzz)     pkgs=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  soak)     pkgs=("${build_pkgs[@]}" "${soak_pkgs[@]}") ;;
  wire)     pkgs=("${build_pkgs[@]}" "${wire_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|sanitize|fuzz|soak|wire" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  # Not a Debian-style system: check the tools only and say what is needed.
  missing=()
  command -v apxs >/dev/null 2>&1 || missing+=(apxs)
  if [ "$what" = test ]; then
    perl -MApache::Test -e1 2>/dev/null || missing+=(Apache::Test)
    perl -MLWP::UserAgent -e1 2>/dev/null || missing+=(LWP::UserAgent)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
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
