# timeout: 600
# analyzer record interrupted: SIGINT or SIGTERM while the workload runs
# leaves no tracing instance, and the trace written is readable.
. /opt/dmirror/lib.sh

load_dmirror
for sig in INT TERM; do
	before=$(dm_stat total.pages_to_dev)
	analyzer record -o sig.dat -- workload -q -s 64 -i 100000 &
	pid=$!
	# Signal it mid-run: once the workload has migrated (a debug kernel
	# can take seconds to get there), then a little later.
	i=0
	while [ "$(dm_stat total.pages_to_dev)" -le "$before" ]; do
		i=$((i + 1)); [ $i -lt 600 ] || fail "SIG$sig: the workload never migrated"
		sleep 0.1
	done
	sleep 1
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
