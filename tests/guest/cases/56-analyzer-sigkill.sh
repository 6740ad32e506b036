# timeout: 300
# analyzer record killed with SIGKILL cannot clean up after itself: its
# tracing instance stays.  The next record removes it (its owner is dead)
# and leaves none of its own; neither run changes the top-level instance.
# And no kernel pointer shows in any trace field, debugfs file or dmirror
# log line, the fault-loop guard's message included.
. /opt/dmirror/lib.sh

top_state() {
	for f in tracing_on current_tracer set_event set_event_pid buffer_size_kb \
		 trace_clock events/dmirror/enable; do
		printf '%s: %s\n' "$f" "$(tr '\n' ' ' < $DM_TRACEFS/$f)"
	done
}

load_dmirror chunk_pages=512 max_chunks=1
top_state > before.txt
analyzer record -o k.dat -- workload -q -s 64 -i 100000 &
pid=$!
wait_instance $pid
expect_eq "$(cat $DM_DEBUGFS/fold_events)" 1 "holders of fold_events while recording"
sleep 1
sigkill_record $pid
ls $DM_TRACEFS/instances | grep -qx "dmirror-analyzer-$pid" ||
	fail "the SIGKILLed analyzer's instance is not there: the case proves nothing"
note "left behind by the SIGKILLed record: dmirror-analyzer-$pid"
# the driver's folding of its events ended with the process
expect_eq "$(cat $DM_DEBUGFS/fold_events)" 0 "holders of fold_events after the SIGKILL"

analyzer record -o k2.dat -- workload -q -s 4 || fail "the next record failed"
left=$(ls $DM_TRACEFS/instances | grep '^dmirror-analyzer-')
[ -z "$left" ] || fail "instances left after the next record: $left"
top_state > after.txt
cmp before.txt after.txt || fail "the top-level instance changed: $(diff before.txt after.txt)"

note "no kernel pointers in trace fields, debugfs files or log lines"
trace_reset
trace_enable 'dmirror:*'
workload -q -s 16 || fail "workload"
echo 1 > $DM_DEBUGFS/owner_mismatch
echo 5 > $DM_DEBUGFS/fault_loop_limit
dm_hold -n 1 -t > /dev/null
echo 0 > $DM_DEBUGFS/owner_mismatch
echo 0 > $DM_TRACEFS/tracing_on
grep dmirror_ $DM_TRACEFS/trace > t.txt
expect_ge "$(grep -c dmirror_fault_loop_guard t.txt)" 1 "the guard fired"
cat $DM_DEBUGFS/stats $DM_DEBUGFS/free_list > debugfs.txt
dmesg | grep dmirror > log.txt
grep -q "fault loop" log.txt || fail "no fault-loop line in the log"
# x86-64 kernel addresses: the top 17 bits set
ptr='(0x)?ffff[89a-f][0-9a-f]{11}'
for f in t.txt debugfs.txt log.txt; do
	[ -s $f ] || fail "$f is empty"
done
for f in t.txt debugfs.txt log.txt; do
	grep -Eio "$ptr" $f | head -3 | grep . && fail "a kernel address in $f"
done
echo "$(wc -l < t.txt) trace lines, $(wc -l < debugfs.txt) debugfs lines, $(wc -l < log.txt) log lines: no kernel address"
unload_dmirror
echo "sigkill and pointers OK"
