# timeout: 600
# A foreign driver whose fault callback returns 0 without calling
# migrate_vma_setup() (planted at test time).  record --live
# --stop-on-loop kills the looping workload; the report flags the loop
# with the no-setup cause and names the driver: its callback where BTF
# reads it from the page, else the code that migrated the page there.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh

load_foreign hmm_foreign_nosetup
stop_the_loop
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
page0=$(workload_page0 wl.out)
expect_eq "$addr" "$page0" "the loop's address: the workload's page on the device"
unload_foreign
echo "no-setup bug: loop at $addr, callback '$cb', migrated by '$by'"
