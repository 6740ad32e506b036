# timeout: 300
# dmirror.ko loads, makes its devices and debugfs files with the right
# modes, runs one migration cycle with the counters and the free list
# moving exactly as the operations say, and unloads cleanly.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=4

for d in 0 1; do
	[ -c /dev/dmirror$d ] || fail "/dev/dmirror$d is not a character device"
	expect_eq "$(stat -c %a /dev/dmirror$d)" 600 "mode of /dev/dmirror$d"
done
[ -e /dev/dmirror2 ] && fail "/dev/dmirror2 exists with ndevices=2"
for f in stats free_list; do
	expect_eq "$(stat -c %a $DM_DEBUGFS/$f)" 400 "mode of debugfs $f"
done
for f in owner_mismatch leak_shadow bounce_copy fault_loop_limit; do
	expect_eq "$(stat -c %a $DM_DEBUGFS/$f)" 600 "mode of debugfs $f"
done
expect_eq "$(cat $DM_DEBUGFS/fault_loop_limit)" 10000 "default fault_loop_limit"
expect_eq "$(cat $DM_DEBUGFS/owner_mismatch)" 0 "default owner_mismatch"
expect_eq "$(cat $DM_DEBUGFS/leak_shadow)" 0 "default leak_shadow"
expect_eq "$(cat $DM_DEBUGFS/bounce_copy)" 0 "default bounce_copy"

cat $DM_DEBUGFS/stats
expect_eq "$(dm_stat config.devices)" 2 "config.devices"
expect_eq "$(dm_stat config.chunk_pages)" 512 "config.chunk_pages"
for k in total.chunks total.pages_total total.shadow_live total.pages_to_dev; do
	expect_eq "$(dm_stat $k)" 0 "$k before any migration"
done
[ "$(cat $DM_DEBUGFS/free_list)" = "dev0.free 0
dev1.free 0" ] || fail "free_list of an unused module: $(cat $DM_DEBUGFS/free_list)"

note "workload: 16 pages to device 0 and back"
workload -s 16 -q || fail "workload failed"
cat $DM_DEBUGFS/stats

expect_eq "$(dm_stat dev0.migrations_to_dev)" 1 "dev0.migrations_to_dev"
expect_eq "$(dm_stat dev0.pages_to_dev)" 16 "dev0.pages_to_dev"
expect_eq "$(dm_stat dev0.devmem_faults)" 16 "dev0.devmem_faults (one per page read back)"
expect_eq "$(dm_stat dev0.migrations_to_ram)" 16 "dev0.migrations_to_ram"
expect_eq "$(dm_stat dev0.pages_to_ram)" 16 "dev0.pages_to_ram"
expect_eq "$(dm_stat dev0.faults_no_progress)" 0 "dev0.faults_no_progress"
expect_eq "$(dm_stat dev0.shadow_allocated)" 16 "dev0.shadow_allocated"
expect_eq "$(dm_stat dev0.shadow_freed)" 16 "dev0.shadow_freed"
expect_eq "$(dm_stat dev0.shadow_live)" 0 "dev0.shadow_live"
expect_eq "$(dm_stat dev0.chunks)" 1 "dev0.chunks"
expect_eq "$(dm_stat dev0.pages_total)" 512 "dev0.pages_total"
expect_eq "$(dm_stat dev0.pages_free)" 512 "dev0.pages_free"
expect_eq "$(dm_stat dev0.pages_in_use)" 0 "dev0.pages_in_use"
expect_eq "$(dm_stat dev1.pages_total)" 0 "dev1.pages_total"
expect_eq "$(dm_stat total.pages_to_dev)" 16 "total.pages_to_dev"

cat $DM_DEBUGFS/free_list
expect_eq "$(awk '$1 == "dev0.free" { print $2 }' $DM_DEBUGFS/free_list)" 512 "dev0.free"
expect_eq "$(grep -c '^dev0.range ' $DM_DEBUGFS/free_list)" 1 "dev0 free ranges (one chunk, all free)"
expect_eq "$(awk '$1 == "dev0.range" { print $3 }' $DM_DEBUGFS/free_list)" 512 "pages in dev0's free range"

unload_dmirror
[ -e /dev/dmirror0 ] && fail "/dev/dmirror0 still there after rmmod"
[ -e $DM_DEBUGFS ] && fail "$DM_DEBUGFS still there after rmmod"
echo "basic cycle OK"
