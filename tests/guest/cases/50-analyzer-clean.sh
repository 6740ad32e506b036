# timeout: 600
# analyzer end to end, a clean run: record the workload's migration cycle,
# report it clean (exit 0), trace-cmd reads our file and sees as many
# dmirror events as we count, and no tracing instance is left behind.
. /opt/dmirror/lib.sh
command -v analyzer > /dev/null || fail "no analyzer in the guest"

# first number after "KEY": in a JSON file
jnum() { grep -o "\"$1\": *-\{0,1\}[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }

load_dmirror
analyzer record -o clean.dat -- workload -s 16 2> rec.err
rc=$?
cat rec.err
expect_eq "$rc" 0 "analyzer record exit status (the workload's)"
[ -s clean.dat ] || fail "no trace written"
ls $DM_TRACEFS/instances | grep -q '^dmirror-analyzer-' && fail "our tracing instance was left behind"

analyzer report clean.dat > report.txt
rc=$?
cat report.txt
expect_eq "$rc" 0 "analyzer report exit status on a clean run"
grep -q '^Verdict: clean' report.txt || fail "no clean verdict"

analyzer report --json clean.dat > report.json
grep -q '"complete": true' report.json || fail "the trace is incomplete"
n=$(jnum dmirror report.json)
expect_ge "$n" 1 "dmirror events in the report"
expect_ge "$(jnum pages_to_dev report.json)" 16 "pages moved to the device"
expect_ge "$(jnum cycles_total report.json)" 1 "migration cycles"
grep -q '"fault_loops": \[\]' report.json || fail "fault loops in a clean run"
grep -q '"leaks": \[\]' report.json || fail "leaks in a clean run"
grep -q '"agree": true' report.json || fail "leak count does not agree with the driver's stats"

trace-cmd report -i clean.dat > tc.txt 2> tc.err || { cat tc.err; fail "trace-cmd report cannot read our file"; }
t=$(grep -c ' dmirror_[a-z_]*: ' tc.txt)
expect_eq "$t" "$n" "dmirror events: trace-cmd report against analyzer report"
echo "clean run: $n dmirror events, trace-cmd agrees"

# By default the driver folds the fault path's events (record holds its
# fold_events file): no setup, copy or finalize of a fault in the file,
# the faults back, each of which moved its page as it should, in batches
# of dmirror_batch (their devmem_fault events, with their pages' frees,
# in them), and the report that of a recording with every event.  The
# folding ends with the recording.
expect_eq "$(grep -c 'dmirror_migrate_setup: .* fault=1 ' tc.txt)" 0 "fault-path setups in a default recording"
expect_eq "$(grep -c 'dmirror_alloc_and_copy: .* fault=1 ' tc.txt)" 0 "fault-path copies in a default recording"
expect_eq "$(grep -c 'dmirror_devmem_fault: ' tc.txt)" 0 "fault events of their own in a default recording"
expect_eq "$(sed -n 's/.*dmirror_batch: *dev=0 n=\([0-9]*\) .*/\1/p' tc.txt | awk '{ s += $1 } END { print s + 0 }')" 16 "faults in the batches of a default recording"
expect_eq "$(grep -c 'dmirror_devmem_free: ' tc.txt)" 0 "devmem_free events of their own in a default recording"
grep -q '"dmirror events": "the report.s; the fault path.s setup, copy, finalize and free folded into its fault event by the driver' report.json ||
	fail "the meta does not say the driver folded the fault path"
expect_eq "$(cat $DM_DEBUGFS/fold_events)" 0 "holders of fold_events after the recording"
analyzer record --all-events -o all.dat -- workload -s 16 > /dev/null 2>&1 || fail "analyzer record --all-events"
trace-cmd report -i all.dat > tca.txt 2> /dev/null || fail "trace-cmd report of the --all-events file"
expect_eq "$(grep -c 'dmirror_migrate_setup: .* fault=1 ' tca.txt)" 16 "fault-path setups with --all-events"
expect_eq "$(grep -c 'dmirror_devmem_fault: .* freed=1 ' tca.txt)" 0 "fault events carrying a free with --all-events"
expect_ge "$(grep -c 'dmirror_devmem_free: ' tca.txt)" 16 "devmem_free events with --all-events"
# The same report: its totals and migrate_vma_setup counts (what does not
# change from one run of the workload to the next; times do).
counts() {
	analyzer report "$1" | awk '$1 == "all" { print $2, $3, $4, $5, $6, $7 } /migrate_vma_setup:/'
}
counts clean.dat > r1.txt; counts all.dat > r2.txt
cat r1.txt
[ "$(wc -l < r1.txt)" = 2 ] || fail "no totals in the default recording's report"
diff r2.txt r1.txt || fail "the default recording's report differs from the --all-events one"
# bench_both SIZE NAME: migrate_bench -s SIZE recorded by default (NAME.dat,
# its trace-cmd text tc-NAME.txt) and with --all-events, the two reports'
# counts the same and the default one clean
bench_both() {
	analyzer record -o "$2.dat" -- migrate_bench -r 1 -s "$1" /dev/dmirror0 > /dev/null 2>&1 ||
		fail "analyzer record of migrate_bench -s $1"
	analyzer record --all-events -o "$2-all.dat" -- migrate_bench -r 1 -s "$1" /dev/dmirror0 > /dev/null 2>&1 ||
		fail "analyzer record --all-events of migrate_bench -s $1"
	trace-cmd report -i "$2.dat" > "tc-$2.txt" 2> /dev/null || fail "trace-cmd report of the migrate_bench -s $1 file"
	counts "$2.dat" > r1.txt; counts "$2-all.dat" > r2.txt
	cat r1.txt
	diff r2.txt r1.txt || fail "migrate_bench -s $1: the default recording's report differs from the --all-events one"
	analyzer report "$2.dat" > /dev/null || fail "migrate_bench -s $1's default recording is not clean"
}
# MIGRATE_TO_SYS folded into runs, a whole window into one event
# (migrate_bench's to_sys way): the same
bench_both 64K bs
expect_ge "$(grep -c 'dmirror_window: ' tc-bs.txt)" 1 "dmirror_window events in a default recording"
expect_eq "$(grep -c 'dmirror_alloc_and_copy: .* dir=to_ram ' tc-bs.txt)" 0 "MIGRATE_TO_SYS copies in a default recording"
# one-page calls, their faults and windows in the driver's batches: the
# same, and none of those windows has events of its own
bench_both 4K b4
expect_ge "$(grep -c 'dmirror_batch: ' tc-b4.txt)" 1024 "dmirror_batch events in a default recording of one-page calls"
expect_eq "$(grep -c 'dmirror_window: ' tc-b4.txt)" 0 "one-page windows of their own"
expect_eq "$(grep -c 'dmirror_migrate_setup: .* dir=to_ram fault=0 ' tc-b4.txt)" 0 "one-page to_ram setups of their own"
echo "default recording: fault path folded, same report as --all-events"
