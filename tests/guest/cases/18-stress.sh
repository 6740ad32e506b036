# timeout: 240
# Concurrent stress (tests/guest/progs/stress.c): 3 processes x 3 threads,
# 4 regions of up to 128 pages each,
# migrating to two small devices (chunk_pages=512 max_chunks=2, so they
# run out and MIGRATE_TO_DEV meets ENOMEM), faulting back, forking,
# munmapping, mprotecting, MADV_DONTNEED, exiting and being SIGKILLed
# with pages on the devices, while a monitor reads stats and free_list;
# every page's contents checked.  Then: counters back to baseline, every
# device page back on the free list, rmmod, and a fresh insmod works.
#
# The seed is 1 unless STRESS_SEED says otherwise, so the suite is
# reproducible (the threads still race); it is printed.  Replay or
# lengthen a run, or try other seeds, with
#   tests/guest/run -k newest -c 18-stress --env STRESS_SEED=N --env STRESS_SECONDS=S
. /opt/dmirror/lib.sh

seed=${STRESS_SEED:-1}
secs=${STRESS_SECONDS:-60}
load_dmirror chunk_pages=512 max_chunks=2
sys_pages=$(dm_stat driver.system_pages_live)
on_fail() { echo "stress: replay with STRESS_SEED=$seed (stress -s $seed -t $secs)"; }

# Device 0 nearly full from the start (960 of its 1,024 pages held by
# another process), so the stress meets ENOMEM there however slow the
# kernel is (a debug kernel under TCG migrates a tenth as much in 60 s).
dm_hold -d 0 -n 960 > hold.txt &
hold=$!
i=0
until grep -q . hold.txt; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "dm_hold never got going"
	sleep 0.1
done
expect_eq "$(cat hold.txt)" "held 960" "dm_hold filling device 0"

# Each device's worst hold of its lock over the run: dmirror_lock_hold
# traces every hold longer than all before it at its site.
trace_reset
trace_enable dmirror_lock:dmirror_lock_hold

note "stress -s $seed -t $secs"
watchdog $((secs + 90)) stress
stress -s "$seed" -t "$secs" > stress.txt 2>&1
rc=$?
kill $wd 2>/dev/null
kill $hold
wait $hold
cat stress.txt
[ $rc -eq 0 ] || { on_fail; fail "stress failed (exit $rc), seed $seed"; }
grep -q "^stress: OK, seed $seed\$" stress.txt || { on_fail; fail "stress gave no OK line"; }

ops() { awk -v k="$1" '$2 == "ops" && $3 == k { print $4 }' stress.txt; }
# The run must have done what it claims: every kind of operation, and the
# devices must have run out at least once.
for k in migrate_to_dev migrate_to_sys cpu_write cpu_verify dev_read dev_write \
	 snapshot fork munmap mprotect madv_dontneed proc_exit_pages_on_device \
	 monitor_reads migrate_to_dev_enomem; do
	expect_ge "$(ops $k)" 1 "stress operations '$k' (seed $seed)"
done
echo 0 > $DM_TRACEFS/tracing_on
grep -o 'dmirror_lock_hold: dev=[0-9]* site=[a-z_]* hold_ns=[0-9]*' $DM_TRACEFS/trace |
	tr '=' ' ' | awk '{ w[$3 " " $5] = $7 } END { for (k in w) print k, w[k] }' | sort > holds.txt
for d in 0 1; do
	grep -q "^$d " holds.txt || fail "no dmirror_lock_hold event for device $d: its lock holds went unmeasured"
	echo "worst device-lock hold (seed $seed): dev$d $(awk -v d=$d '$1 == d { printf " %s=%dus", $2, $3 / 1000 }' holds.txt)"
done
echo 1 > $DM_TRACEFS/tracing_on
echo > $DM_TRACEFS/set_event
cat $DM_DEBUGFS/stats
cat $DM_DEBUGFS/free_list
expect_ge "$(dm_stat total.alloc_failures)" 1 "total.alloc_failures: the devices ran out"

for d in 0 1; do
	expect_eq "$(dm_stat dev$d.pages_in_use)" 0 "dev$d.pages_in_use after the run (seed $seed)"
	expect_eq "$(dm_stat dev$d.shadow_live)" 0 "dev$d.shadow_live after the run (seed $seed)"
	expect_eq "$(dm_stat dev$d.shadow_allocated)" "$(dm_stat dev$d.shadow_freed)" \
		"dev$d shadow_allocated == shadow_freed (seed $seed)"
	expect_eq "$(dm_stat dev$d.shadow_leaked)" 0 "dev$d.shadow_leaked (seed $seed)"
	expect_eq "$(dm_stat dev$d.fault_loop_kills)" 0 "dev$d.fault_loop_kills (seed $seed)"
	total=$(dm_stat dev$d.pages_total)
	expect_eq "$(awk -v k=dev$d.free '$1 == k { print $2 }' $DM_DEBUGFS/free_list)" "$total" \
		"dev$d: every device page on the free list (seed $seed)"
	ranges=$(awk -v k=dev$d.range '$1 == k { n += $3 } END { print n + 0 }' $DM_DEBUGFS/free_list)
	expect_eq "$ranges" "$total" "dev$d: pages in the free ranges (seed $seed)"
	grep -q "^dev$d.counter_mismatch" $DM_DEBUGFS/free_list &&
		fail "dev$d free list disagrees with its count (seed $seed)"
done
# Shadow and bounce pages: an error path that dropped one shows here.
expect_eq "$(dm_stat driver.system_pages_live)" "$sys_pages" \
	"driver.system_pages_live after the run, as before it (seed $seed)"
expect_ge "$(dm_stat driver.system_pages_allocated)" 1 "driver.system_pages_allocated (seed $seed)"
expect_eq "$(cat /sys/module/dmirror/refcnt)" 0 "module refcount after the run (seed $seed)"

note "rmmod and a fresh insmod"
unload_dmirror
[ -e /dev/dmirror0 ] && fail "/dev/dmirror0 still there after rmmod"
load_dmirror chunk_pages=512 max_chunks=2
expect_eq "$(dm_stat total.pages_total)" 0 "pages_total of the fresh module"
expect_eq "$(dm_stat total.pages_to_dev)" 0 "pages_to_dev of the fresh module"
workload -s 64 -q || fail "workload on the fresh module"
expect_eq "$(dm_stat total.pages_in_use)" 0 "pages_in_use after workload on the fresh module"
unload_dmirror
echo "stress OK, seed $seed"
