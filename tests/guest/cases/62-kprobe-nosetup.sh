# timeout: 600
# A foreign driver whose fault callback returns 0 without calling
# migrate_vma_setup() (planted at test time).  record --live
# --stop-on-loop kills the looping workload; the report flags the loop
# with the no-setup cause and names the driver: its callback where BTF
# reads it from the page, else the code that migrated the page there.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh

load_foreign hmm_foreign_nosetup
timeout 300 analyzer record --live --stop-on-loop -o loop.dat -- \
	workload -d /dev/hmm_dmirror0 -s 1 2> rec.err
rc=$?
cat rec.err
expect_eq "$rc" 137 "the workload killed by --stop-on-loop"
expect_nothing_left "--stop-on-loop"

analyzer report loop.dat > report.txt
rc=$?
cat report.txt
expect_eq "$rc" 1 "analyzer report exit status with a fault loop"
analyzer report --json loop.dat > report.json
expect_eq "$(grep -c '"cause": {"code": "no_setup"' report.json)" 1 "fault loops with the no-setup cause"
cb=$(jstr callback report.json)
by=$(jstr migrated_by report.json)
if [ -e /sys/kernel/btf/vmlinux ] && [ "$DM_SERIES" != 6.1 ]; then
	case $cb in
	dmirror_devmem_fault*"[hmm_foreign_nosetup]") ;;
	*) fail "with BTF the callback is read from the page: got '$cb'" ;;
	esac
else
	case $by in
	*"[hmm_foreign_nosetup]") ;;
	*) fail "the report does not name the driver that migrated the page: '$by'" ;;
	esac
fi
addr=$(jstr addr report.json)
range=$(todev_range loop.dat)
in_range "$addr" "$range" || fail "the loop at $addr is not in the workload's buffer [$range)"
unload_foreign
echo "no-setup bug: loop at $addr, callback '$cb', migrated by '$by'"
