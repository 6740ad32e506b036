# timeout: 600
# The kernel-probe source's dynamic events and instance are gone after a
# normal exit and after SIGINT; a SIGKILLed recorder leaves them and the
# next one removes them; the top-level instance never changes.  A probe
# point the kernel lacks (a bogus function, asked for by the tests' own
# variable) is reported in one line and the recording goes on; an
# essential one fails the recording with one line and leaves nothing.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh
skip_on_debug

load_foreign hmm_foreign
top_state > before.txt

note "SIGINT"
analyzer record --source kernel -o int.dat -- workload -d /dev/hmm_dmirror0 -q -s 16 -i 1000000 2> int.err &
pid=$!
wait_instance $pid
sleep 1
kill -INT $pid
wait $pid
rc=$?
cat int.err
# the workload died of SIGINT, or of SIGKILL 5 s later: a shell's
# background job inherits SIGINT ignored
[ "$rc" = 130 ] || [ "$rc" = 137 ] || fail "record after SIGINT: exit $rc"
[ -s int.dat ] || fail "no file after SIGINT"
expect_nothing_left "SIGINT"
analyzer report int.dat > /dev/null
rc=$?
# 1: the flood before the kill may have lost events, which makes it incomplete
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "the interrupted recording is not readable (report exit $rc)"

note "SIGKILL, then the next run"
analyzer record --source kernel -o k.dat -- workload -d /dev/hmm_dmirror0 -q -s 16 -i 1000000 &
pid=$!
wait_instance $pid
sleep 1
sigkill_record $pid
n=$(grep -c "dmirror_analyzer_$pid/" $DM_TRACEFS/dynamic_events)
expect_ge "$n" 10 "probe events the SIGKILLed recorder left: the case proves nothing otherwise"
analyzer record --source kernel -o k2.dat -- workload -d /dev/hmm_dmirror0 -q -s 4 || fail "the next record failed"
expect_nothing_left "the run after a SIGKILL"
top_state > after.txt
cmp before.txt after.txt || fail "the top-level instance changed: $(diff before.txt after.txt)"

note "a probe point the kernel does not have"
ANALYZER_TEST_BOGUS_PROBE=mv_pages analyzer record --source kernel -o b.dat -- \
	workload -d /dev/hmm_dmirror0 -q -s 4 2> b.err
rc=$?
cat b.err
expect_eq "$rc" 0 "record without one probe point"
expect_eq "$(grep -c 'not placed: .*mv_pages (not in this kernel' b.err)" 1 "the line naming the missing probe point"
expect_eq "$(grep -c '^analyzer: record: source:' b.err)" 1 "source lines"
analyzer report b.dat > b.txt
rc=$?
cat b.txt
# without migrate_vma_pages() probed, what finalize's src[] says counts
expect_eq "$rc" 0 "the report of a trace without mv_pages"
analyzer report --json b.dat > b.json
expect_eq "$(jtotal pages_to_dev b.json)" 4 "pages to the device, counted without mv_pages"
expect_eq "$(jtotal pages_to_ram_fault b.json)" 4 "pages back, counted without mv_pages"
expect_nothing_left "a missing probe point"

note "an essential probe point missing"
ANALYZER_TEST_BOGUS_PROBE=mv_setup analyzer record --source kernel -o e.dat -- true 2> e.err
rc=$?
cat e.err
expect_eq "$rc" 2 "record without migrate_vma_setup"
expect_eq "$(wc -l < e.err)" 1 "lines on stderr"
grep -q 'cannot probe dmirror_analyzer_no_such_function' e.err || fail "the line does not say what is missing"
[ -e e.dat ] && fail "a file was written"
expect_nothing_left "a failed set-up"
unload_foreign
echo "cleanup: SIGINT, SIGKILL + next run, a missing probe point: nothing left"
