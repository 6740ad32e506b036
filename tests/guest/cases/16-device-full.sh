# timeout: 300
# A device of 512 pages (one chunk, max_chunks=1) takes exactly 512: one
# more fails MIGRATE_TO_DEV with ENOMEM, counted in alloc_failures, and
# nothing is lost or left behind.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=1
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null' EXIT
workload -s 512 -q || fail "512 pages did not fit a 512-page device"
expect_eq "$(dm_stat dev0.alloc_failures)" 0 "alloc_failures when exactly full"

dm_hold -n 600 -t > out.txt && fail "migrating 600 pages to a 512-page device succeeded"
expect_eq "$(cat out.txt)" "failed ENOMEM" "dm_hold's result"
expect_eq "$(dm_stat dev0.alloc_failures)" 1 "alloc_failures"
expect_eq "$(dm_stat dev0.pages_to_dev)" 1024 "pages_to_dev (512 + the 512 that fitted)"
expect_eq "$(dm_stat dev0.chunks)" 1 "chunks"
expect_eq "$(dm_stat dev0.pages_in_use)" 0 "pages_in_use after the process exited"
expect_eq "$(dm_stat dev0.shadow_live)" 0 "shadow_live after the process exited"
expect_eq "$(dm_stat dev1.pages_total)" 0 "device 1 untouched"

note "two devices, two capacities"
dm_hold -n 512 > a.txt &
pid=$!
i=0; until grep -q . a.txt; do i=$((i+1)); [ $i -lt 200 ] || fail "dm_hold stuck"; sleep 0.1; done
expect_eq "$(cat a.txt)" "held 512" "device 0 filled"
workload -d 1 -s 512 -q > /dev/null || fail "device 1 refused pages while device 0 was full"
workload -d 0 -s 1 -q > /dev/null 2>&1 && fail "device 0 took a page while full"
expect_eq "$(dm_stat dev0.alloc_failures)" 2 "alloc_failures"
kill $pid; wait $pid; pid=
workload -d 0 -s 1 -q > /dev/null || fail "device 0 refused a page after being emptied"
unload_dmirror
echo "device full OK"
