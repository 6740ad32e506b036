# timeout: 600
# A foreign driver whose fault path passes the wrong pgmap_owner (the
# mirror, not the device: a bug planted at test time in the kernel's own
# test_hmm.c).  It has no fault-loop guard: the workload would fault for
# ever.  record --live --stop-on-loop must kill it, and the report must
# flag the loop at the workload's address, with the owner-mismatch cause,
# the user pc and the driver's fault callback by name (exit 1).  The
# page's owner is read through BTF where the kernel has it.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh

load_foreign hmm_foreign_owner
stop_the_loop
# From 6.14 an fprobe's exit returns through function graph's trampoline,
# where a stack trace taken by an interrupt (as KASAN, kmemleak and
# lockdep take them) makes the unwinder warn: the return probes
# (setup, finalize, do_swap_page, hmm_range_fault) must be kretprobes there.
IFS=. read -r kmaj kmin _ < /proc/sys/kernel/osrelease
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "${kmin%%[!0-9]*}" -ge 14 ]; }; then
	nkret=$(sed -n 's/^analyzer: record: source: kernel probes (.* \([0-9]*\) kretprobe events.*/\1/p' rec.err)
	expect_ge "${nkret:-0}" 4 "kretprobe events (the return probes) on $kmaj.$kmin"
fi
expect_eq "$(grep -c '"cause": {"code": "owner_mismatch"' report.json)" 1 "fault loops with the owner-mismatch cause"
expect_ge "$(jnum count report.json)" 8 "faults in the loop"
cb=$(jstr callback report.json)
case $cb in
*dmirror_devmem_fault*"[hmm_foreign_owner]") ;;
*) fail "the loop's callback is '$cb', not the driver's dmirror_devmem_fault" ;;
esac
[ -n "$(jstr user_pc report.json)" ] || fail "no user pc for the looping access"
basis=$(sed -n 's/.*"owner": {"basis": "\([a-z]*\)".*/\1/p' report.json | head -n1)
if [ -e /sys/kernel/btf/vmlinux ]; then
	expect_eq "$basis" btf "where the page's owner came from (this kernel has BTF)"
else
	expect_eq "$basis" init "where the page's owner came from (no BTF)"
fi
grep -q 'the fault path passed pgmap_owner owner#2, but the device page.s owner is owner#1' report.txt ||
	fail "the cause does not name the two owners"
addr=$(jstr addr report.json)
page0=$(workload_page0 wl.out)
expect_eq "$addr" "$page0" "the loop's address: the workload's page on the device"
no_kernel_pointer report.txt report.json rec.err
trace-cmd report -N -i loop.dat > tc.txt 2>&1 || fail "trace-cmd cannot read the file"
hand_back loop.dat report.txt report.json tc.txt
unload_foreign
echo "owner bug: loop at $addr (the workload's page), callback $cb, owner from $basis"
