# timeout: 600
# The kernel-probe source on a driver without dmirror's tracepoints (the
# kernel's own test_hmm.c, built at test time as hmm_foreign.ko), dmirror.ko
# not loaded: "analyzer record" picks the kernel probes itself, the report
# of a clean migration cycle is clean (exit 0) and counts every page each
# way, trace-cmd reads the file, no kernel address is in it, and nothing of
# ours is left in tracefs.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh
skip_on_debug

load_foreign hmm_foreign
top_state > before.txt
analyzer record -o clean.dat -- workload -d /dev/hmm_dmirror0 -s 16 2> rec.err
rc=$?
cat rec.err
expect_eq "$rc" 0 "analyzer record exit status (the workload's)"
grep -q '^analyzer: record: source: kernel probes' rec.err ||
	fail "auto did not pick the kernel probes without dmirror.ko"
expect_nothing_left "a normal exit"
top_state > after.txt
cmp before.txt after.txt || fail "the top-level instance changed: $(diff before.txt after.txt)"

analyzer report clean.dat > report.txt
rc=$?
cat report.txt
expect_eq "$rc" 0 "analyzer report exit status on a clean run"
grep -q '^Verdict: clean' report.txt || fail "no clean verdict"
grep -q '^Shadow pages are not judged' report.txt || fail "the report does not say shadow pages are not judged"

analyzer report --json clean.dat > report.json
expect_eq "$(jstr source report.json)" kernel "the report's source"
grep -q '"complete": true' report.json || fail "the trace is incomplete"
grep -q '"fault_loops": \[\]' report.json || fail "fault loops in a clean run"
grep -q '"leaks": \[\]' report.json || fail "leaks in a clean run"
expect_eq "$(jtotal pages_to_dev report.json)" 16 "pages migrated to the device"
expect_eq "$(jtotal pages_to_ram_fault report.json)" 16 "pages migrated back by CPU faults"
expect_eq "$(jnum device_pages_init report.json)" 16 "device pages initialised"
expect_ge "$(jnum cycles_total report.json)" 1 "migration cycles"
expect_eq "$(jtotal devmem_faults report.json)" 16 "device-private faults (one per page read back)"

trace-cmd report -i clean.dat > tc.txt 2> tc.err || { cat tc.err; fail "trace-cmd report cannot read our file"; }
expect_ge "$(grep -c ' mv_setup: ' tc.txt)" 17 "mv_setup events as trace-cmd reads them (1 to the device, 16 faults)"
no_kernel_pointer tc.txt report.txt report.json
unload_foreign
echo "clean foreign driver: 16 pages each way, no kernel address, nothing left"
