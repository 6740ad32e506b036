# timeout: 900
# Systematic fault injection, the way the kernel's own fuzzers do it: for
# every operation of the driver (open, mmap of the device, each ioctl, the
# CPU faulting device pages back) and for loading the module, failnth
# (tests/guest/progs/failnth.c) makes the 1st, 2nd, ... Nth fault point
# fail (a slab or page allocation, or a user copy), until the operation
# runs through without meeting one more.  Each time: only ENOMEM or EFAULT
# comes back, and only if a fault was injected; no data is lost or torn
# (device and CPU views checked); nothing is left in use once the range is
# unmapped, and the driver holds no more system pages (shadows, bounce
# buffers: driver.system_pages_live) than before; a failed load leaves
# nothing behind.  The guest log must stay
# clean, and on the debug kernel kmemleak must find nothing at the end.
#
# Needs CONFIG_FAULT_INJECTION (kconfig/debug.config has it); on kernels
# without it the case skips.
. /opt/dmirror/lib.sh

[ -e /proc/self/fail-nth ] ||
	skip "this kernel has no fault injection (/proc/self/fail-nth): the debug flavour has it"
fi=/sys/kernel/debug
for a in failslab fail_page_alloc fail_usercopy; do
	[ -d $fi/$a ] || fail "no $fi/$a: the kernel lacks FAILSLAB, FAIL_PAGE_ALLOC or FAULT_INJECTION_USERCOPY"
	# An injected failure is expected here: no report of it on the console.
	echo 0 > $fi/$a/verbose
done
# By default only allocations that cannot sleep are failed, and no order-0
# page: the driver's allocations are GFP_KERNEL and mostly single pages.
echo N > $fi/failslab/ignore-gfp-wait
echo N > $fi/fail_page_alloc/ignore-gfp-wait
echo N > $fi/fail_page_alloc/ignore-gfp-highmem
echo 0 > $fi/fail_page_alloc/min-order

params="chunk_pages=512 max_chunks=2"
# 6.1's kset_register() leaks its kobject's name when it fails (later
# kernels free it), so a fault injected there into class_register(), from
# dmirror_init(), is bound to end in a kmemleak report that is not the
# driver's.
case $DM_SERIES in
6.1)
	note "no module-load run: 6.1's kset_register() leaks on failure"
	;;
*)
	note "loading dmirror.ko with each fault point of dmirror_init() failing"
	failnth -L $DM_MODULES/dmirror.ko "$params" || fail "module load under fault injection"
	;;
esac

load_dmirror $params
note "every operation, 16 small pages"
failnth all || fail "fault injection into the driver's operations (small pages)"
# The range operations again on one THP, where the driver migrates huge
# folios whole (7.x): other kernels split a THP and move it as 512 small
# pages, the paths the small-page run took, 512 times over.  open, mmap
# and the debugfs files do not depend on the range.
case $DM_SERIES in
6.*)
	note "no huge-page run: $DM_SERIES migrates a THP as 512 small pages"
	;;
*)
	note "one transparent huge page"
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $thp)
	echo madvise > $thp
	failnth -H to-dev to-sys fault read read-dev write write-dev snapshot exclusive release ||
		fail "fault injection into the driver's operations (huge page)"
	echo "$thp_was" > $thp
	;;
esac

cat $DM_DEBUGFS/stats
for d in 0 1; do
	expect_eq "$(dm_stat dev$d.pages_in_use)" 0 "dev$d.pages_in_use after fault injection"
	expect_eq "$(dm_stat dev$d.shadow_live)" 0 "dev$d.shadow_live after fault injection"
	expect_eq "$(dm_stat dev$d.shadow_leaked)" 0 "dev$d.shadow_leaked after fault injection"
	expect_eq "$(awk -v k=dev$d.free '$1 == k { print $2 }' $DM_DEBUGFS/free_list)" \
		"$(dm_stat dev$d.pages_total)" "dev$d: every device page on the free list"
done
expect_eq "$(dm_stat driver.system_pages_live)" 0 "driver.system_pages_live after fault injection"
expect_eq "$(cat /sys/module/dmirror/refcnt)" 0 "module refcount after fault injection"
unload_dmirror
load_dmirror
workload -s 16 -q || fail "workload on a fresh module after fault injection"
unload_dmirror
echo "fail-nth OK"
