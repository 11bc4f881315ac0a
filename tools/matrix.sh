#!/usr/bin/env bash
# tools/matrix.sh — build mod_expect against several httpd releases and run
# the whole Apache::Test suite against each (what `make test-matrix` runs).
#
#   tools/matrix.sh                      2.4.37 2.4.52 2.4.58 2.4.62 system
#   tools/matrix.sh 2.4.37 system        only these
#
# A release is built from source by tools/matrix-httpd.sh (or taken from its
# cache); `system` is the httpd of the system's apxs. For each one, the tree
# is copied into a scratch directory, the module is built there with that
# release's apxs (`make all APXS=...`, warnings are errors), and the suite runs
# there with Apache::Test pointed at that release's apxs and httpd
# (APACHE_TEST_APXS/APACHE_TEST_HTTPD, and APXS for t/TEST.PL; its bin/ first
# in PATH), on a base port of its own. The work tree itself is never built in
# or written to.
#
# MATRIX_SKIP leaves test files out (Apache::Test's t/SKIP patterns, written
# into the copy), e.g. MATRIX_SKIP='status.t' while a file is being fixed.
#
# At the end a table gives, per release: how long its httpd build took (when
# it was built, from the cache's record), the module build, and the tests
# run / passed / failed / skipped, and "lost": tests that a test file planned
# but never reached because it died. The script fails if any release fails.
#
# Environment:
#   HTTPD_SRC, MATRIX_CACHE, MATRIX_JOBS    see tools/matrix-httpd.sh
#   MATRIX_PORT_BASE   first release's base port (default 10400); each
#                      release gets its own block of 100 ports above it
#   MATRIX_TIMEOUT     seconds one release's suite may take (default 1500)
#   MATRIX_TESTS       test files to run (default: the whole suite)
#   MATRIX_SKIP        Apache::Test skip patterns (default: none)
#   MATRIX_OUT         where logs go (default: a new /tmp/mod_expect-matrix.*)
set -uo pipefail
# The whole script is one block, read before any of it runs: a run that is
# under way is not disturbed when the file changes.
{
shopt -u patsub_replacement 2>/dev/null || true

top=$(cd "$(dirname "$0")/.." && pwd)

releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(2.4.37 2.4.52 2.4.58 2.4.62 system)

port_base=${MATRIX_PORT_BASE:-10400}
timeout_s=${MATRIX_TIMEOUT:-1500}
skip=${MATRIX_SKIP:-}
tests=${MATRIX_TESTS:-}
out=${MATRIX_OUT:-}
if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/mod_expect-matrix.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
chmod 755 "$out"

say() { echo "matrix: $*"; }

# Is anything listening on 127.0.0.1:$1 (or any address)?
port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Copy the tree as git sees it (tracked and untracked files that are not
# ignored), or, outside git, the tree minus build products.
copy_tree() {
  local dest=$1
  mkdir -p "$dest"
  if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
      (cd "$top" && tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null) |
      tar -xf - -C "$dest"
  else
    (cd "$top" && tar --exclude=./.git --exclude=./.libs --exclude=./build \
       --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude='*.slo' \
       --exclude=./t/logs --exclude=./t/TEST -cf - .) | tar -xf - -C "$dest"
  fi
  chmod -R a+rX "$dest"
}

# Stop an httpd that a killed run left behind (its pid file is in the copy).
stop_leftover_httpd() {
  local tree=$1 pid
  for f in "$tree"/t/logs/httpd.pid; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      say "stopping httpd $pid left by the run in $tree"
      kill "$pid" 2>/dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

# Tally the TAP that the harness printed in verbose mode:
# run passed failed(not ok) skipped notrun(planned, never reached) files_skipped
tally() {
  perl -ne '
    if (/^ok \d+/)          { $run++; if (/#\s*skip/i) { $skip++ } else { $pass++ } }
    elsif (/^not ok \d+/)   { $run++; $fail++ }
    elsif (/You planned (\d+) tests? but ran (\d+)/) { $notrun += $1 - $2 if $1 > $2 }
    elsif (/^(?:\S+\.t)\s*\.*\s*skipped:/ || /^1\.\.0\s*#\s*skip/i) { $fskip++ }
    END { printf "%d %d %d %d %d %d\n", $run, $pass, $fail, $skip, $notrun, $fskip }
  ' "$1"
}

declare -A row_httpd row_hbuild row_build row_counts row_result row_secs

# Interrupted (Ctrl-C, a CI time limit): end the suite that is running (it
# runs under timeout, in a process group of its own) and its httpd.
suite_pid=
tree=
on_signal() {
  trap - INT TERM HUP
  if [ -n "$suite_pid" ]; then
    kill -TERM -- -"$suite_pid" 2>/dev/null
    sleep 1
    kill -KILL -- -"$suite_pid" 2>/dev/null
  fi
  [ -z "$tree" ] || stop_leftover_httpd "$tree"
  echo "matrix: interrupted; logs in $out"
  exit 130
}
trap on_signal INT TERM HUP
overall=0
idx=0

for r in "${releases[@]}"; do
  base=$((port_base + 100 * idx))
  idx=$((idx + 1))
  dir=$out/$r
  mkdir -p "$dir"
  row_counts[$r]='- - - - -'
  row_build[$r]=-
  row_httpd[$r]=-
  row_hbuild[$r]=-
  row_secs[$r]=-
  start=$(date +%s)

  # 1. the server
  if [ "$r" = system ]; then
    apxs=$(command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || true)
    if [ -z "$apxs" ]; then
      say "system: apxs not found (tools/deps.sh test installs it)"
      row_result[$r]='FAIL (no apxs)'; overall=1; continue
    fi
  else
    prefix=$("$top/tools/matrix-httpd.sh" "$r") || {
      row_result[$r]='FAIL (httpd build)'; overall=1; continue; }
    apxs=$prefix/bin/apxs
    [ -f "$prefix/matrix-build.seconds" ] &&
      row_hbuild[$r]=$(cat "$prefix/matrix-build.seconds")s
  fi
  httpd=$("$apxs" -q SBINDIR)/$("$apxs" -q TARGET)
  row_httpd[$r]=$("$httpd" -v 2>/dev/null | sed -n 's|^Server version: *Apache/\([^ ]*\).*|\1|p')
  [ -n "${row_httpd[$r]}" ] || row_httpd[$r]='?'

  # 2. the module, in a copy of the tree
  tree=$dir/tree
  rm -rf "$tree"
  copy_tree "$tree"
  if make -C "$tree" --no-print-directory all APXS="$apxs" > "$dir/module.log" 2>&1; then
    row_build[$r]=OK
  else
    row_build[$r]=FAIL
    say "$r: module build failed against $apxs:"
    grep -aE '(error|warning):' "$dir/module.log" | head -n 20
    row_result[$r]=FAIL; overall=1
    row_secs[$r]=$(( $(date +%s) - start ))
    continue
  fi

  # 3. the suite. A built release's bin/ comes first in PATH, as on a host
  # where that httpd is the installed one: a test that asks `apxs` or runs
  # `httpd` by name gets the release under test.
  path=$PATH
  [ "$r" = system ] || path=$(dirname "$apxs"):$PATH
  while port_busy "$base"; do base=$((base + 100 * ${#releases[@]})); done
  [ -z "$skip" ] || printf '%s\n' $skip > "$tree/t/SKIP"
  say "$r: httpd ${row_httpd[$r]} ($httpd), base port $base, log $dir/suite.log"
  (
    cd "$tree" &&
    exec env PATH="$path" APXS="$apxs" APACHE_TEST_APXS="$apxs" \
        APACHE_TEST_HTTPD="$httpd" APACHE_TEST_PORT="$base" HARNESS_VERBOSE=1 \
      timeout -k 30 "$timeout_s" \
      make --no-print-directory check APXS="$apxs" TESTS="$tests"
  ) > "$dir/suite.log" 2>&1 &
  suite_pid=$!
  wait "$suite_pid"
  rc=$?
  suite_pid=
  stop_leftover_httpd "$tree"
  [ $rc -ne 124 ] && [ $rc -ne 137 ] || echo "matrix: the suite did not finish within ${timeout_s}s" >> "$dir/suite.log"
  read -r run pass fail skipped notrun fskip < <(tally "$dir/suite.log")
  row_counts[$r]="$run $pass $fail $skipped $notrun"
  row_secs[$r]=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ] && [ "$fail" -eq 0 ] && [ "$notrun" -eq 0 ] && [ "$run" -gt 0 ]; then
    row_result[$r]=PASS
  else
    row_result[$r]="FAIL (exit $rc)"; overall=1
    [ "$run" -gt 0 ] || row_result[$r]="FAIL (no test ran; see the log)"
    grep -aE '^t/\S+\.t +\(Wstat|^  (Failed tests|Parse errors|Non-zero)' "$dir/suite.log" |
      head -n 40 | sed "s/^/matrix: $r: /"
  fi
  [ "$fskip" -eq 0 ] || row_result[$r]="${row_result[$r]}, $fskip file(s) skipped"
  say "$r: ${row_result[$r]} (${row_secs[$r]}s)"
  # A passing copy is not needed any more; a failing one is kept to look at.
  case ${row_result[$r]} in PASS*) rm -rf "$tree" ;; esac
done

echo
echo "mod_expect test matrix (logs in $out)"
fmt='%-8s %-8s %-7s %-7s %6s %6s %6s %7s %5s %6s  %s\n'
printf "$fmt" release httpd built module run passed failed skipped lost secs result
for r in "${releases[@]}"; do
  read -r run pass fail skipped notrun <<< "${row_counts[$r]}"
  printf "$fmt" "$r" "${row_httpd[$r]}" "${row_hbuild[$r]}" "${row_build[$r]}" \
    "$run" "$pass" "$fail" "$skipped" "$notrun" "${row_secs[$r]}" "${row_result[$r]:-FAIL}"
done
echo "(built: how long the httpd build took when it was made; secs: this run's"
echo " module build and suite; lost: planned tests a dying test file never ran)"
# One closing count over all releases; a release that failed without a
# failed test (its httpd or module did not build, its server did not start)
# counts as one failure.
total_pass=0 total_fail=0 total_skip=0
for r in "${releases[@]}"; do
  read -r run pass fail skipped notrun <<< "${row_counts[$r]}"
  [ "$run" = - ] && run=0 pass=0 fail=0 skipped=0 notrun=0
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail + notrun))
  total_skip=$((total_skip + skipped))
  case ${row_result[$r]:-FAIL} in
    PASS*) ;;
    *) [ $((fail + notrun)) -gt 0 ] || total_fail=$((total_fail + 1)) ;;
  esac
done
echo "matrix: $total_pass passed, $total_fail failed, $total_skip skipped"
if [ $overall -eq 0 ]; then
  echo "make test-matrix: PASS"
else
  echo "make test-matrix: FAIL (kept copies and logs: $out/<release>/)"
fi
exit $overall
}
