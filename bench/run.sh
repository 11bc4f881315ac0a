#!/usr/bin/env bash
# bench/run.sh — mod_expect against stock httpd: throughput with wrk and
# instructions per request with callgrind.  `make bench` runs it after
# building the module; BENCHMARKS.md explains the method and the figures.
#
# Two servers run from ONE configuration, bench/httpd.conf (event MPM,
# KeepAlive On): A is stock httpd, B is the same plus `-D EXPECT`, which
# loads mod_expect.  Both listen on 127.0.0.1 only.
#
#  1. Status check: every case is sent to A and to B with bench/client.pl
#     and the answers (status, Content-Type, connections used) are printed;
#     B must answer as mod_expect should, or the run stops.
#  2. Throughput: wrk drives A and B in interleaved rounds (A B A B ...),
#     ROUNDS rounds of DURATION seconds each per server and case; the
#     median requests/s of each server and the ratio B/A are printed.
#     Requests/s counts every completed final response, 417s included.
#  3. Instructions: each server runs under `valgrind --tool=callgrind` as a
#     single process (`apache2 -X`, event MPM) and serves CG_N, then (in a
#     fresh process) 6*CG_N requests over one keep-alive connection; the
#     difference of the two totals divided by 5*CG_N is the cost of one
#     request, without start-up and shut-down.  For the plain GET the
#     module's functions and every function whose count changed are listed.
#
# Environment (defaults in brackets):
#   CASES        wrk cases [get post xfoo continue] (see bench/wrk.lua)
#   ROUNDS       rounds per server and case [5]
#   DURATION     seconds per round [4]
#   THREADS      wrk threads [2]
#   CONNECTIONS  wrk connections [32]
#   CG_CASES     callgrind cases [get xfoo continue post]; empty: skip
#   CG_N         N of the callgrind runs [2000]
#   SET          minimal | debian: the module set of both servers [minimal]
#                (debian adds what a stock Debian apache2 enables)
#   PORT_BASE    A listens on PORT_BASE+1, B on +2, callgrind on +3 [9100]
#   MODULE       the module [.libs/mod_expect.so]
#   HTTPD        the httpd binary [from apxs, else /usr/sbin/apache2]
#   KEEP=1       keep the scratch directory (logs, callgrind files)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench

CASES=${CASES-get post xfoo continue}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CG_CASES=${CG_CASES-get xfoo continue post}
CG_N=${CG_N:-2000}
SET=${SET:-minimal}
PORT_BASE=${PORT_BASE:-9100}
module=${MODULE:-$top/.libs/mod_expect.so}

die() { echo "bench: $*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }

for v in ROUNDS DURATION THREADS CONNECTIONS CG_N PORT_BASE; do
  case ${!v} in ''|*[!0-9]*) die "$v='${!v}' is not a number" ;; esac
done
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || die "ROUNDS must be 1..50"
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] || die "DURATION must be 1..60"
[ "$CG_N" -ge 1 ] && [ "$CG_N" -le 100000 ] || die "CG_N must be 1..100000"
case $SET in minimal) setdef= ;; debian) setdef="-D BENCH_DEBIAN" ;;
  *) die "SET='$SET' is neither minimal nor debian" ;; esac

[ -f "$module" ] || die "$module not found; build it first with: make"
case $module in /*) ;; *) module=$(pwd)/$module ;; esac
command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"
if [ -n "$CG_CASES" ]; then
  command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null \
    || die "valgrind not found (Debian package valgrind); or set CG_CASES="
fi

apxs=$(command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || true)
moddir=
[ -n "$apxs" ] && moddir=$("$apxs" -q LIBEXECDIR 2>/dev/null || true)
[ -n "$moddir" ] && [ -d "$moddir" ] || moddir=/usr/lib/apache2/modules
[ -f "$moddir/mod_mpm_event.so" ] || die "no httpd modules in $moddir"
httpd=${HTTPD:-}
if [ -z "$httpd" ] && [ -n "$apxs" ]; then
  httpd="$("$apxs" -q SBINDIR 2>/dev/null)/$("$apxs" -q TARGET 2>/dev/null)" || httpd=
fi
[ -n "$httpd" ] && [ -x "$httpd" ] || httpd=/usr/sbin/apache2
[ -x "$httpd" ] || die "httpd not found; set HTTPD=/path/to/httpd"

port_a=$((PORT_BASE + 1)) port_b=$((PORT_BASE + 2)) port_cg=$((PORT_BASE + 3))
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $port_a $port_b $port_cg; do
  port_busy $p && die "127.0.0.1:$p is in use; choose other ports with PORT_BASE="
done

# As root, the wrk servers' children run as nobody (User/Group), and the
# callgrind servers run entirely as nobody (runuser), so that callgrind can
# write its output after httpd has given up root.
if [ "$(id -u)" -eq 0 ]; then
  user=nobody
  group=$(id -gn nobody 2>/dev/null || echo nogroup)
  as_user=(runuser -u "$user" --)
  rootdefs=(-C "Define BENCH_ROOT" -C "Define BENCH_USER $user"
            -C "Define BENCH_GROUP $group")
else
  user=$(id -un)
  as_user=()
  rootdefs=()
fi

scratch=$(mktemp -d /tmp/mod_expect-bench.XXXXXX)
chmod 755 "$scratch"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then
    say "bench: scratch directory kept: $scratch"
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The module is copied, so that a rebuild during the run changes nothing.
cp "$module" "$scratch/mod_expect.so"
for src in "$top"/mod_expect.c "$top"/expect_*.[ch]; do
  [ -f "$src" ] && cp "$src" "$scratch/"
done
mkdir "$scratch/docs"
printf '<html><body>hello, benchmark</body></html>\n' >"$scratch/docs/index.html"
chmod -R a+rX "$scratch"

# A run directory (pid file, logs, scoreboard) writable by the server.
rundir() {
  mkdir -p "$scratch/$1"
  [ "$(id -u)" -eq 0 ] && chown "$user" "$scratch/$1"
  return 0
}

# httpd arguments for server $1 (a or b), port $2, MPM $3.
httpd_args() {
  local expect=()
  [ "$1" = b ] && expect=(-D EXPECT)
  printf '%s\0' -f "$bench/httpd.conf" \
    -C "Define BENCH_PORT $2" -C "Define BENCH_RUN $scratch/$4" \
    -C "Define BENCH_DOCS $scratch/docs" -C "Define BENCH_MODDIR $moddir" \
    -C "Define BENCH_MODULE $scratch/mod_expect.so" -C "Define BENCH_MPM $3" \
    ${setdef:+$setdef} "${expect[@]}"
}

wait_port() {   # pid port
  local i
  for i in $(seq 1 150); do
    kill -0 "$1" 2>/dev/null || return 1
    port_busy "$2" && return 0
    sleep 0.2
  done
  return 1
}

start_server() {   # a|b port -> sets $server_pid
  local args=()
  rundir "$1"
  mapfile -d '' args < <(httpd_args "$1" "$2" mpm_event "$1")
  "$httpd" "${args[@]}" "${rootdefs[@]}" -DFOREGROUND \
    >"$scratch/$1/stdout" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_port "$server_pid" "$2" || {
    cat "$scratch/$1/stdout" "$scratch/$1/error_log" 2>/dev/null >&2
    die "server $1 did not start"
  }
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

median() { sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ------------------------------------------------------------------ machine
say "== mod_expect benchmark: stock httpd (A) against httpd + mod_expect (B)"
say "machine:  $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
say "httpd:    $("$httpd" -v | sed -n 's/^Server version: //p'), event MPM; module set: $SET"
say "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
say "module:   $module ($(sha256sum "$module" | cut -c1-12))"
say

start_server a "$port_a"; pid_a=$server_pid
start_server b "$port_b"; pid_b=$server_pid

# ------------------------------------------------------------------ statuses
# What each server must answer: status(es), Content-Type, connections used
# for 3 requests.  Stock's column is informative; B's is enforced.
declare -A expect_a=(
  [get]="statuses=200:3 connections=1 type=text/html"
  [post]="statuses=100:3,200:3 connections=1 type=text/html"
  [xfoo]="statuses=417:3 connections=3 type=text/html"
  [continue]="statuses=200:3 connections=3 type=text/html")
declare -A expect_b=(
  [get]="statuses=200:3 connections=1 type=text/html"
  [post]="statuses=100:3,200:3 connections=1 type=text/html"
  [xfoo]="statuses=417:3 connections=1 type=application/json"
  [continue]="statuses=200:3 connections=1 type=text/html")
say "-- status check: 3 requests per case over keep-alive (client reconnects when the server closes)"
bad=0
for c in get post xfoo continue; do
  for s in a b; do
    port=$port_a; [ $s = b ] && port=$port_b
    got=$(perl "$bench/client.pl" "$port" "$c" 3 20 | sed 's/ closes=[0-9]*//')
    want=${expect_a[$c]}; [ $s = b ] && want=${expect_b[$c]}
    mark=ok
    if [ "$got" != "$want" ]; then
      mark="UNEXPECTED (want $want)"
      [ $s = b ] && bad=1
    fi
    printf '%-9s %s  %-62s %s\n' "$c" "$(tr a-b A-B <<<$s)" "$got" "$mark"
  done
done
[ $bad = 0 ] || die "mod_expect did not answer as it should; see above"
say

# ------------------------------------------------------------------ wrk
declare -A rps
run_wrk() {   # case port -> prints "rps s200 s417 s100 other errors"
  local out line
  out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" \
          -d"${DURATION}s" -s "$bench/wrk.lua" \
          "http://127.0.0.1:$2/index.html" -- "$1" 2>&1) || true
  line=$(grep '^wrk-result' <<<"$out") || { echo "$out" >&2; die "wrk failed"; }
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "%.0f %d %d %d %d %d\n", v["finals"] * 1e6 / v["duration_us"],
           v["s200"], v["s417"], v["s100"], v["other"],
           v["connect"] + v["read"] + v["write"] + v["timeout"] }' <<<"$line"
}

if [ -n "$CASES" ]; then
  say "-- throughput: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds per server, A B A B ..."
  say "   (requests/s = completed final responses / duration; 'errs' = wrk socket errors,"
  say "    i.e. connections the server dropped under wrk's next request)"
  summary=()
  for c in $CASES; do
    case $c in get|post|xfoo|continue) ;; *) die "unknown case '$c'" ;; esac
    run_wrk "$c" "$port_a" >/dev/null; run_wrk "$c" "$port_b" >/dev/null  # warm-up
    : >"$scratch/$c.a"; : >"$scratch/$c.b"
    for r in $(seq 1 "$ROUNDS"); do
      for s in a b; do
        port=$port_a; [ $s = b ] && port=$port_b
        read -r v s200 s417 s100 other errs < <(sed 's/ -/ 0/g' <<<"$(run_wrk "$c" "$port")")
        echo "$v" >>"$scratch/$c.$s"
        printf '%-9s round %d %s %8d req/s   200:%-8d 417:%-8d 100:%-8d other:%-4d errs:%d\n' \
          "$c" "$r" "$(tr a-b A-B <<<$s)" "$v" "$s200" "$s417" "$s100" "$other" "$errs"
      done
    done
    ma=$(median <"$scratch/$c.a"); mb=$(median <"$scratch/$c.b")
    ra=$(sort -g "$scratch/$c.a" | sed -n '1p;$p' | paste -sd-)
    rb=$(sort -g "$scratch/$c.b" | sed -n '1p;$p' | paste -sd-)
    summary+=("$(printf '%-9s %10.0f %10.0f %7.2f   %-17s %s' "$c" "$ma" "$mb" \
                 "$(awk -v a="$ma" -v b="$mb" 'BEGIN { print b / a }')" "$ra" "$rb")")
  done
  say
  say "-- throughput medians ($ROUNDS rounds each; range = min-max of the rounds)"
  printf '%-9s %10s %10s %7s   %-17s %s\n' case "A req/s" "B req/s" "B/A" "A range" "B range"
  printf '%s\n' "${summary[@]}"
  say
fi

stop_pid "$pid_a"; stop_pid "$pid_b"

# ------------------------------------------------------------------ callgrind
# One callgrind run: server s (a|b), case, count.  Prints the total Ir.
cg_run() {
  local s=$1 c=$2 n=$3 name="cg-$1-$2-$3" args=() vpid status
  rundir "$name"
  mapfile -d '' args < <(httpd_args "$s" "$port_cg" mpm_event "$name")
  "${as_user[@]}" valgrind --tool=callgrind --vgdb=no \
    --callgrind-out-file="$scratch/$name/callgrind.out" \
    "$httpd" -X "${args[@]}" >"$scratch/$name/valgrind.log" 2>&1 &
  vpid=$!
  pids+=("$vpid")
  wait_port "$vpid" "$port_cg" || {
    cat "$scratch/$name/valgrind.log" "$scratch/$name/error_log" 2>/dev/null >&2
    die "callgrind server $s did not start"
  }
  status=$(perl "$bench/client.pl" "$port_cg" "$c" "$n" 900) \
    || die "callgrind client failed ($s $c $n)"
  stop_pid "$vpid"
  echo "$status" >"$scratch/$name/status"
  sed -n 's/^totals: *//p' "$scratch/$name/callgrind.out" | tr -d ,
}

if [ -n "$CG_CASES" ]; then
  n6=$((6 * CG_N))
  say "-- instructions per request: callgrind on '$(basename "$httpd") -X' (event MPM, one process),"
  say "   (Ir(6N) - Ir(N)) / 5N with N=$CG_N, all requests over one keep-alive connection"
  printf '%-9s %12s %12s %10s %9s\n' case "A Ir/req" "B Ir/req" "B-A" "(B-A)/A"
  for c in $CG_CASES; do
    case $c in get|post|xfoo|continue) ;; *) die "unknown case '$c'" ;; esac
    declare -A ir=()
    for s in a b; do
      t1=$(cg_run "$s" "$c" "$CG_N"); t6=$(cg_run "$s" "$c" "$n6")
      ir[$s]=$(awk -v a="$t1" -v b="$t6" -v n="$CG_N" 'BEGIN { printf "%.1f", (b - a) / (5 * n) }')
    done
    printf '%-9s %12.1f %12.1f %+10.1f %8.2f%%\n' "$c" "${ir[a]}" "${ir[b]}" \
      "$(awk -v a="${ir[a]}" -v b="${ir[b]}" 'BEGIN { print b - a }')" \
      "$(awk -v a="${ir[a]}" -v b="${ir[b]}" 'BEGIN { print 100 * (b - a) / a }')"
    for s in a b; do
      for n in "$CG_N" "$n6"; do
        f="$scratch/cg-$s-$c-$n/callgrind.out"
        callgrind_annotate --auto=no --threshold=100 "$f" >"${f%.out}.self" 2>/dev/null
        callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$f" \
          >"${f%.out}.incl" 2>/dev/null
        callgrind_annotate --auto=no --threshold=100 --tree=both "$f" \
          >"${f%.out}.tree" 2>/dev/null
      done
    done
  done
  say
  case " $CG_CASES " in *" get "*)
    f() { echo "$scratch/cg-$1-get-$2/callgrind.$3"; }
    say "-- plain GET, instructions per request by function: every function whose"
    say "   count differs by >= 1 between A and B, and all of mod_expect's functions"
    say "   (self cost: the function's own instructions, without its callees)"
    perl "$bench/cgdiff.pl" "$CG_N" "$(f a "$CG_N" self)" "$(f a "$n6" self)" \
      "$(f b "$CG_N" self)" "$(f b "$n6" self)" 1
    say
    say "-- plain GET (no Expect): allocations, copies, and mod_expect's calls"
    perl "$bench/cgcalls.pl" "$CG_N" "$(f a "$CG_N" tree)" "$(f a "$n6" tree)" \
      "$(f b "$CG_N" tree)" "$(f b "$n6" tree)"
    say ;;
  esac
fi
