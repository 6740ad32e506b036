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
timeout 300 analyzer record --live --stop-on-loop -o loop.dat -- \
	workload -d /dev/hmm_dmirror0 -s 1 2> rec.err
rc=$?
cat rec.err
expect_eq "$rc" 137 "the workload killed by --stop-on-loop"
grep -q 'LIVE .*fault loop' rec.err || fail "no live fault-loop notice"
expect_nothing_left "--stop-on-loop"

analyzer report loop.dat > report.txt
rc=$?
cat report.txt
expect_eq "$rc" 1 "analyzer report exit status with a fault loop"
analyzer report --json loop.dat > report.json
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
range=$(todev_range loop.dat)
in_range "$addr" "$range" || fail "the loop at $addr is not in the workload's buffer [$range)"
no_kernel_pointer report.txt report.json rec.err
unload_foreign
echo "owner bug: loop at $addr in [$range), callback $cb, owner from $basis"
