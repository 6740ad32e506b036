# Helpers for the kernel-probe source's cases: . /opt/dmirror/kprobe.sh
# (after lib.sh).  The "foreign" drivers are the kernel's own test_hmm.c
# built at test time under other names (tests/guest/foreign-driver).

# first number after "KEY": in a JSON file
jnum() { grep -o "\"$1\": *-\{0,1\}[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
# KEY of the report's "total" object (the cycles come before it)
jtotal() { sed -n 's/^ *"total": {//p' "$2" | grep -o "\"$1\": *[0-9]*" | head -n1 | sed 's/.*: *//'; }
# first string after "KEY": in a JSON file
jstr() { grep -o "\"$1\": *\"[^\"]*\"" "$2" | head -n1 | sed 's/.*: *"\(.*\)"/\1/'; }

# load_foreign NAME: a foreign driver (hmm_foreign, hmm_foreign_owner,
# hmm_foreign_nosetup), with dmirror.ko not loaded
load_foreign() {
	lsmod | grep -q '^dmirror ' && fail "dmirror.ko is loaded: the case is about other drivers"
	insmod $DM_MODULES/$1.ko || fail "insmod $1.ko"
	FOREIGN=$1
	# a case that fails half-way must not leave it for the next one
	trap 'rmmod "$FOREIGN" 2>/dev/null' EXIT
	[ -c /dev/hmm_dmirror0 ] || fail "$1.ko made no /dev/hmm_dmirror0"
}

unload_foreign() {
	trap - EXIT
	rmmod "$FOREIGN" || fail "rmmod $FOREIGN"
}

# stop_the_loop: record the workload on the loaded foreign driver's
# device with --live --stop-on-loop, which must kill it; then the report
# (report.txt, report.json) must say there is a problem.  The workload's
# output is in wl.out.
stop_the_loop() {
	timeout 300 analyzer record --live --stop-on-loop -o loop.dat -- \
		workload -d /dev/hmm_dmirror0 -s 1 > wl.out 2> rec.err
	rc=$?
	cat wl.out rec.err
	expect_eq "$rc" 137 "the workload killed by --stop-on-loop"
	grep -q 'LIVE .*fault loop' rec.err || fail "no live fault-loop notice"
	expect_nothing_left "--stop-on-loop"
	analyzer report loop.dat > report.txt
	rc=$?
	cat report.txt
	expect_eq "$rc" 1 "analyzer report exit status with a fault loop"
	analyzer report --json loop.dat > report.json
}

# What of ours is in tracefs: dynamic events of our groups, our instances.
kp_left() {
	grep 'dmirror_analyzer_' $DM_TRACEFS/dynamic_events
	ls $DM_TRACEFS/instances | grep '^dmirror-analyzer-'
}

expect_nothing_left() {
	left=$(kp_left)
	[ -z "$left" ] || fail "left in tracefs after $1: $left"
}

# The top-level instance's state, to compare before and after.  6.1
# allocates the top-level ring buffer at the first event enabled in any
# instance (tracing_update_buffers(): buffer_size_kb reads "7 (expanded:
# 1408)" until then): a lazy allocation, not a setting, so it is left out.
top_state() {
	for f in tracing_on current_tracer set_event set_event_pid buffer_size_kb \
		 trace_clock options/record-tgid; do
		printf '%s: %s\n' "$f" "$(tr '\n' ' ' < $DM_TRACEFS/$f | sed 's/ (expanded: [0-9]*)//')"
	done
}

# x86-64 kernel addresses: the top 17 bits set
KPTR='(0x)?ffff[89a-f][0-9a-f]{11}'

# no_kernel_pointer FILE...: fail naming the first file with one
no_kernel_pointer() {
	for f in "$@"; do
		[ -s "$f" ] || fail "$f is empty: nothing to check"
		if grep -Eio "$KPTR" "$f" | head -3 | grep .; then
			fail "a kernel address in $f"
		fi
	done
}

# The address of the workload's first page on the device, as it printed
# it ("on-device page 0 vaddr 0x...")
workload_page0() {
	sed -n 's/^on-device page 0 vaddr \(0x[0-9a-f]*\) .*/\1/p' "$1" | head -n1
}

# debug kernels run the kernel-probe cases that take the BTF path (61,
# 62); the others' recording is the same on both flavours, and takes
# minutes under a debug kernel's single TCG thread
skip_on_debug() {
	[ "$DM_FLAVOUR" = debug ] &&
		skip "debug kernel: this recording is the default kernels' (BTF: 61, 62)"
}

# The range of the workload's first migration to the device in TRACE
# (trace-cmd's view of our mv_setup events): "START END".
todev_range() {
	trace-cmd report -i "$1" 2>/dev/null | grep ' mv_setup: ' | grep 'fpage=0x0 ' | head -n1 |
		sed 's/.* start=\(0x[0-9a-f]*\) end=\(0x[0-9a-f]*\).*/\1 \2/'
}

# in_range ADDR "START END"
in_range() {
	set -- "$1" $2
	[ -n "$2" ] && [ $(($1)) -ge $(($2)) ] && [ $(($1)) -lt $(($3)) ]
}
