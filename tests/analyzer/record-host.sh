#!/bin/bash
# analyzer record on the running kernel, without the dmirror driver:
# ANALYZER_TEST_NO_DRIVER=1 lets it record only the sched process events.
# Checks the tracefs side: our instance, the pid filter, streaming to a
# trace.dat that trace-cmd reads, exit statuses, signals, clean-up, stale
# instances, and that nothing outside our instance changes.
#
#   tests/analyzer/record-host.sh [path/to/analyzer]
#
# Needs root and a kernel with tracefs; exits 77 (skip) otherwise.  Not
# part of "make test" (host unit tests need neither).  Last line:
# "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
A=$(realpath "${1:-$top/analyzer/analyzer}")
export ANALYZER_TEST_NO_DRIVER=1
pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$A" ] || { echo "SKIP: no $A (make -C analyzer)"; exit 77; }
grep -q tracefs /proc/filesystems || { echo "SKIP: no tracefs in this kernel"; exit 77; }

T=/sys/kernel/tracing
premounted=
grep -q " $T tracefs " /proc/mounts && premounted=1
tmp=$(mktemp -d)
cleanup() {
	# the instances this script made, if a failed run left them
	with_tracefs sh -c "rmdir $T/instances/someone-else $T/instances/dmirror-analyzer-999999 2>/dev/null; true"
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 2

# look at tracefs without leaving it mounted if it was not
with_tracefs() {
	local m=
	if ! grep -q " $T tracefs " /proc/mounts; then
		mount -t tracefs nodev $T || return 1
		m=1
	fi
	"$@"
	local rc=$?
	[ -n "$m" ] && umount $T
	return $rc
}
snapshot() {
	for f in tracing_on current_tracer buffer_size_kb set_event set_event_pid trace_clock; do
		echo "$f: $(cat $T/$f 2>/dev/null | tr '\n' ' ')"
	done
	ls $T/instances
}
instances() { ls $T/instances; }

with_tracefs snapshot > before.txt
with_tracefs mkdir $T/instances/someone-else
with_tracefs mkdir $T/instances/dmirror-analyzer-999999

# 1. a run: exit status, file, events of the process tree only
"$A" record -o a.dat -- sh -c 'sleep 0.2; ls / > /dev/null; exit 3' 2> a.err
rc=$?
check "exit status of CMD is ours (3)" '[ $rc = 3 ]'
check "a trace.dat was written" '[ -s a.dat ]'
trace-cmd report -i a.dat > a.txt 2> a.tcerr
check "trace-cmd report reads it" '[ $? = 0 ] && ! grep -qi error a.tcerr'
n_exec=$(grep -c sched_process_exec a.txt)
n_exit=$(grep -c sched_process_exit a.txt)
check "the tree's execs are there (sh, sleep, ls: $n_exec)" '[ "$n_exec" = 3 ]'
check "the tree's exits are there ($n_exit)" '[ "$n_exit" = 3 ]'
check "nothing from outside the tree" '! grep -v -E "^cpus=|CPU [0-9]+ is empty| (sh|sleep|ls)-[0-9]+ " a.txt | grep -q .'
check "stale instance of a dead analyzer removed" '! with_tracefs instances | grep -q dmirror-analyzer-999999'
check "someone else's instance kept" 'with_tracefs instances | grep -qx someone-else'
check "our instance is gone" '! with_tracefs instances | grep -q "^dmirror-analyzer-"'
with_tracefs rmdir $T/instances/someone-else
with_tracefs snapshot > after.txt
check "top-level tracing state unchanged" 'cmp -s before.txt after.txt'
if [ -z "$premounted" ]; then
	check "tracefs unmounted again" '! grep -q " $T tracefs " /proc/mounts'
fi

# 2. CMD killed by a signal: 128+signal
"$A" record -o b.dat -- sh -c 'kill -TERM $$' 2> /dev/null
rc=$?
check "CMD killed by SIGTERM gives 143 ($rc)" '[ $rc = 143 ]'

# 3. SIGINT to the recorder: passed on, file written, nothing left behind
# (job control on, so that the background job does not ignore SIGINT)
set -m
"$A" record -o c.dat -- sleep 30 2> c.err &
pid=$!
set +m
sleep 1
kill -INT $pid
wait $pid
rc=$?
check "SIGINT: sleep died of SIGINT, exit 130 ($rc)" '[ $rc = 130 ]'
check "SIGINT: the file is written" '[ -s c.dat ] && trace-cmd report -i c.dat > /dev/null 2>&1'
check "SIGINT: no instance left" '! with_tracefs instances | grep -q "^dmirror-analyzer-"'

# 4. SIGTERM to the recorder while CMD ignores it: killed after the grace time
"$A" record -o d.dat -- sh -c 'trap "" TERM; sleep 30' 2> d.err &
pid=$!
sleep 1
kill -TERM $pid
start=$(date +%s)
wait $pid
rc=$?
took=$(( $(date +%s) - start ))
check "SIGTERM ignored by CMD: killed (exit $rc after ${took}s)" '[ $rc = 137 ] && [ $took -le 8 ]'
check "SIGTERM: no instance left" '! with_tracefs instances | grep -q "^dmirror-analyzer-"'

# 5. usage errors
"$A" record -b 1 -- true 2> /dev/null
check "bad -b: exit 2" '[ $? = 2 ]'
"$A" record -- /nonexistent/cmd 2> e.err
check "missing CMD: exit 2, one line" '[ $? = 2 ] && [ $(wc -l < e.err) = 1 ]'
setpriv --reuid=65534 --regid=65534 --clear-groups "$A" record -- true 2> f.err
check "not root: exit 2, one line" '[ $? = 2 ] && [ $(wc -l < f.err) = 1 ]'
unset ANALYZER_TEST_NO_DRIVER
if ! with_tracefs test -d $T/events/dmirror; then
	"$A" record -- true 2> g.err
	check "no dmirror events: exit 2, one line" '[ $? = 2 ] && [ $(wc -l < g.err) = 1 ] && grep -q dmirror g.err'
fi
export ANALYZER_TEST_NO_DRIVER=1

# 6. --live needs the dmirror formats: without the driver it fails cleanly
"$A" record --live -o h.dat -- true 2> h.err
check "--live without the driver: exit 2, one line" '[ $? = 2 ] && [ $(wc -l < h.err) = 1 ]'
check "--live failure: no instance left" '! with_tracefs instances | grep -q "^dmirror-analyzer-"'

if [ -z "$premounted" ]; then
	check "tracefs not left mounted" '! grep -q " $T tracefs " /proc/mounts'
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
