# timeout: 1200
# No false alarms: the kernel's whole hmm-tests selftest against the
# correct foreign driver (the kernel's test_hmm.c as hmm_foreign.ko),
# recorded with the kernel probes, reports no fault loop and no leaked
# device page.  Faults the kernel gives back under the per-VMA lock and
# retries at once are in it (6.12 and later), and are not loops.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh
. /opt/dmirror/hmm-tests.sh

# The same reason as 20-hmm-tests-upstream: upstream test_hmm.c itself
# trips KASAN on the 7.3 debug kernel.
[ "$DM_FLAVOUR" = debug ] && skip "debug kernel: test_hmm.c trips KASAN there (20-hmm-tests-upstream)"

load_foreign hmm_foreign
echo 32 > /proc/sys/vm/nr_hugepages
thp=/sys/kernel/mm/transparent_hugepage/enabled
echo madvise > $thp
# hmm-tests' own verdicts do not matter here (20-hmm-tests-upstream keeps
# them); what the analyzer says of the run does
timeout -s KILL 900 analyzer record --source kernel -b 16384 -o hmm.dat -- \
	sh -c "hmm-tests $(hmm_tests_skips) > tap.txt 2>&1" 2> rec.err
rc=$?
cat rec.err
echo 0 > /proc/sys/vm/nr_hugepages
grep -q '^analyzer: record: .* pages (.* KB) written to hmm.dat' rec.err ||
	fail "the recording of hmm-tests was not written (exit $rc)"
expect_nothing_left "the hmm-tests recording"
expect_ge "$(grep -c '^ok ' tap.txt)" 10 "hmm-tests cases that passed"
unload_foreign

analyzer report --no-cycles hmm.dat > report.txt
rc=$?
cat report.txt
analyzer report --json --no-cycles hmm.dat > report.json
grep -q '"complete": true' report.json || fail "events were lost: the verdict would mean nothing"
grep -q '"fault_loops": \[\]' report.json || fail "a fault loop was reported in hmm-tests"
expect_eq "$(jnum device_page_leaks report.json)" 0 "device pages leaked"
expect_eq "$rc" 0 "analyzer report exit status of the hmm-tests run"
expect_ge "$(jtotal pages_to_dev report.json)" 100 "pages hmm-tests migrated to the device"
echo "hmm-tests under the kernel probes: $(jnum device_private_faults report.json) device-private faults ($(jnum vma_lock_retries report.json) retried under the per-VMA lock), no loop, no leak"
