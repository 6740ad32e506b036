# timeout: 600
# analyzer record interrupted: SIGINT or SIGTERM while the workload runs
# leaves no tracing instance, and the trace written is readable.
. /opt/dmirror/lib.sh

load_dmirror
for sig in INT TERM; do
	analyzer record -o sig.dat -- workload -q -s 64 -i 100000 &
	pid=$!
	sleep 3
	kill -$sig $pid
	wait $pid
	rc=$?
	echo "SIG$sig: analyzer exited $rc"
	# the workload died of the signal, or of SIGKILL if it ignored it
	[ "$rc" = 130 ] || [ "$rc" = 143 ] || [ "$rc" = 137 ] || fail "SIG$sig: exit $rc"
	ls $DM_TRACEFS/instances | grep -q '^dmirror-analyzer-' && fail "SIG$sig: instance left behind"
	analyzer report sig.dat > /dev/null
	r=$?
	[ "$r" = 0 ] || [ "$r" = 1 ] || fail "SIG$sig: the trace is not readable (report exit $r)"
	trace-cmd report -i sig.dat > /dev/null 2>&1 || fail "SIG$sig: trace-cmd cannot read the trace"
	rm -f sig.dat
done
