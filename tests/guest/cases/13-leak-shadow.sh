# timeout: 300
# leak_shadow makes the free callback forget the shadow page: the device
# page goes back on the free list but its shadow page is leaked for real,
# and counted, so shadow_live stays at the number of pages freed while the
# bug was on, after the process has exited and after the bug is off.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=1
echo 1 > $DM_DEBUGFS/leak_shadow || fail "cannot set leak_shadow"

trace_reset
trace_enable dmirror:dmirror_devmem_free dmirror:dmirror_alloc_and_copy
dm_hold -n 8 -t > out.txt || fail "dm_hold failed: $(cat out.txt)"
echo 0 > $DM_TRACEFS/tracing_on
grep dmirror_ $DM_TRACEFS/trace > t.txt
expect_eq "$(tail -1 out.txt)" "readback ok" "data is intact (the leak loses no data)"
expect_eq "$(grep -c 'dmirror_devmem_free: dev=0 .* shadow_pfn=0x[0-9a-f]* released=0 ' t.txt)" 8 "frees with an unreleased shadow"
expect_eq "$(grep -c 'released=1' t.txt)" 0 "frees with a released shadow"
expect_eq "$(sed -n 's/.*devmem_free: .* shadow_pfn=\([^ ]*\) .*/\1/p' t.txt | sort | tr '\n' ' ')" \
	"$(sed -n 's/.*alloc_and_copy: dev=0 dir=to_dev .* shadow_pfn=\([^ ]*\) .*/\1/p' t.txt | sort | tr '\n' ' ')" \
	"the leaked shadows are the ones allocated"
expect_eq "$(dm_stat dev0.shadow_allocated)" 8 "shadow_allocated"
expect_eq "$(dm_stat dev0.shadow_freed)" 0 "shadow_freed"
expect_eq "$(dm_stat dev0.shadow_leaked)" 8 "shadow_leaked"
expect_eq "$(dm_stat dev0.shadow_live)" 8 "shadow_live after the process exited"
expect_eq "$(dm_stat total.shadow_live)" 8 "total.shadow_live"
expect_eq "$(dm_stat dev0.pages_in_use)" 0 "device pages are all back on the free list"
expect_eq "$(awk '$1 == "dev0.free" { print $2 }' $DM_DEBUGFS/free_list)" 512 "free list length"

note "bug off: new frees release their shadows, the leaked ones stay leaked"
echo 0 > $DM_DEBUGFS/leak_shadow
workload -s 16 -q > /dev/null || fail "workload failed"
expect_eq "$(dm_stat dev0.shadow_allocated)" 24 "shadow_allocated"
expect_eq "$(dm_stat dev0.shadow_freed)" 16 "shadow_freed"
expect_eq "$(dm_stat dev0.shadow_live)" 8 "shadow_live"
# The driver-wide count of its system pages sees the same 8 lost.
expect_eq "$(dm_stat driver.system_pages_live)" 8 "driver.system_pages_live: the leaked shadows"

note "the leak does not pin the module"
unload_dmirror
echo "shadow leak OK"
