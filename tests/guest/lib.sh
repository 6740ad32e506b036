# Helpers for guest test cases: . /opt/dmirror/lib.sh
# A case exits 0 to pass, 77 to skip, anything else to fail, and says why.

DM_MODULES=/opt/dmirror/modules
DM_DEBUGFS=/sys/kernel/debug/dmirror
DM_TRACEFS=/sys/kernel/tracing

fail() { echo "FAIL: $*" >&2; exit 1; }
# A helper whose output is used as $(...) runs in a subshell, where fail
# would only end the subshell: it fails the case through this instead,
# which signals the case's own shell ($$ is that shell's pid in every
# subshell) before leaving the subshell.  The trap then fails the case as
# soon as the command that ran the helper is done.
trap 'exit 1' USR1
fail_case() { echo "FAIL: $*" >&2; kill -USR1 $$; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
note() { echo "--- $*"; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_ge ACTUAL MIN WHAT
expect_ge() {
	[ "$1" -ge "$2" ] 2>/dev/null || fail "$3: got '$1', expected at least $2"
}

load_dmirror() {
	insmod $DM_MODULES/dmirror.ko "$@" || fail "insmod dmirror.ko $*"
}

unload_dmirror() {
	rmmod dmirror || fail "rmmod dmirror"
}

load_test_hmm() {
	insmod $DM_MODULES/test_hmm.ko "$@" || fail "insmod test_hmm.ko $*"
}

# dm_stat KEY: one value from the stats file; a missing key or file fails
# the case, also from inside $(...).
dm_stat() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) exit 1 }' \
		$DM_DEBUGFS/stats || fail_case "no '$1' in $DM_DEBUGFS/stats"
}

# Point hmm-tests' device names at the loaded module's devices.
link_hmm_devices() {
	prefix=$1
	rm -f /dev/hmm_dmirror*
	for d in /dev/$prefix[0-9]*; do
		[ -e "$d" ] || continue
		ln -s "$d" "/dev/hmm_dmirror${d#/dev/$prefix}"
	done
}

# The top-level tracing instance, reset to a known state for a case that
# reads the trace directly.
trace_reset() {
	echo 0 > $DM_TRACEFS/tracing_on
	echo > $DM_TRACEFS/set_event
	echo > $DM_TRACEFS/trace
	echo 1 > $DM_TRACEFS/tracing_on
}

trace_enable() {
	for e in "$@"; do
		echo "$e" >> $DM_TRACEFS/set_event || fail "cannot enable event $e"
	done
}

# watchdog SECONDS NAME...: after SECONDS, show where every thread of the
# processes called NAME is (state, wchan, kernel stack), then SIGKILL them.
# Its pid is in $wd; kill it once they ended on their own.
watchdog() {
	wd_secs=$1; shift
	(
		sleep "$wd_secs"
		echo "=== watchdog: $* still running after ${wd_secs}s; their threads:"
		for d in /proc/[0-9]*; do
			c=$(cat $d/comm 2>/dev/null) || continue
			case " $* " in *" $c "*) ;; *) continue ;; esac
			for t in $d/task/*; do
				echo "--- pid ${d#/proc/} tid ${t##*/} ($c) $(grep '^State' $t/status 2>/dev/null) wchan $(cat $t/wchan 2>/dev/null)"
				cat $t/stack 2>/dev/null
			done
			kill -9 ${d#/proc/} 2>/dev/null
		done
	) &
	wd=$!
}

# wait_instance PID: until analyzer PID has its tracing instance (made
# once its events or probes are in place)
wait_instance() {
	i=0
	until ls $DM_TRACEFS/instances | grep -qx "dmirror-analyzer-$1"; do
		i=$((i + 1)); [ $i -lt 300 ] || fail "analyzer $1 made no instance"
		sleep 0.1
	done
}

# sigkill_record PID: SIGKILL a recording analyzer, which then cannot
# clean up after itself, and its workload; return once both are gone.
sigkill_record() {
	kill -KILL $1
	wait $1
	killall -KILL workload 2>/dev/null
	i=0
	while pidof workload > /dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "the workload outlived SIGKILL"
		sleep 0.1
	done
}

# hand_back FILE...: the files, from the case's directory, to the host:
# they land in the run's files/$DM_CASE/ (tests/guest/run).  On a host
# (the demo run by hand) they are copied to $DM_HANDBACK_DIR instead.
# The port is written only once the tar stream is whole, and the last
# close of a serial port waits until it is sent.
hand_back() {
	if [ -n "${DM_HANDBACK_DIR:-}" ]; then
		mkdir -p "$DM_HANDBACK_DIR" && cp "$@" "$DM_HANDBACK_DIR/" ||
			fail "cannot copy $* to $DM_HANDBACK_DIR"
		return
	fi
	hb=/tmp/handback.$$
	rm -rf $hb && mkdir -p $hb/$DM_CASE || fail "hand_back: no room in /tmp"
	cp "$@" $hb/$DM_CASE/ || fail "hand_back: cannot copy $*"
	tar -c -f $hb.tar -C $hb $DM_CASE || fail "hand_back: tar failed"
	cat $hb.tar > /dev/ttyS2 || fail "hand_back: cannot write the serial port"
	rm -rf $hb $hb.tar
}
