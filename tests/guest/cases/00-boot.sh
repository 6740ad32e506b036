# timeout: 60
# The guest itself: the filesystems the other cases rely on are there, and
# the kernel can load and unload a module that uses device-private memory.
. /opt/dmirror/lib.sh

for m in /dev /proc /sys /sys/kernel/debug /sys/kernel/tracing; do
	grep -q " $m " /proc/mounts || fail "$m is not mounted"
done
[ -c /dev/null ] || fail "devtmpfs did not populate /dev"
[ -r /proc/self/pagemap ] || fail "no /proc/self/pagemap (CONFIG_PROC_PAGE_MONITOR)"
[ -d /sys/kernel/tracing/events ] || fail "tracefs has no events directory"
if [ "$DM_FLAVOUR" = debug ]; then
	# Upstream test_hmm.ko stays out of debug runs: 6.1's leaks its
	# devices on unload (kmemleak), 7.3's trips KASAN (20-hmm-tests-upstream).
	load_dmirror
	[ -c /dev/dmirror0 ] || fail "dmirror.ko loaded but /dev/dmirror0 is missing"
	unload_dmirror
else
	load_test_hmm
	[ -c /dev/hmm_dmirror0 ] || fail "test_hmm.ko loaded but /dev/hmm_dmirror0 is missing"
	rmmod test_hmm || fail "rmmod test_hmm"
fi
echo "kernel $DM_KVER ($DM_SERIES, ${DM_FLAVOUR:-default}) is fit for the suite"
