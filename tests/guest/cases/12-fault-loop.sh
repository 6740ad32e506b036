# timeout: 300
# owner_mismatch makes the fault path hand migrate_vma_setup() the wrong
# pgmap_owner: nothing migrates and the CPU faults on the same page again.
# The fault-loop guard ends that loop with SIGBUS at fault_loop_limit, says
# so in the kernel log and the trace, and counts it; with the limit at 0
# the loop goes on until the process is killed from outside.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=1 fault_loop_limit=25
expect_eq "$(cat $DM_DEBUGFS/fault_loop_limit)" 25 "fault_loop_limit from the module parameter"
echo 20 > $DM_DEBUGFS/fault_loop_limit || fail "cannot set fault_loop_limit"
echo 1 > $DM_DEBUGFS/owner_mismatch || fail "cannot set owner_mismatch"

trace_reset
trace_enable 'dmirror:*'
dm_hold -n 1 -t > out.txt
status=$?
echo 0 > $DM_TRACEFS/tracing_on
cat out.txt
grep dmirror_ $DM_TRACEFS/trace > t.txt
tail -8 t.txt
expect_eq "$(head -1 out.txt)" "held 1" "dm_hold migrated its page"
expect_eq "$status" 135 "dm_hold exit status (128 + SIGBUS)"

expect_eq "$(grep -c 'dmirror_devmem_fault:' t.txt)" 20 "faults traced"
expect_eq "$(grep -c 'dmirror_migrate_setup: dev=0 dir=to_ram fault=1 .* cpages=0 owner_match=0 ret=0' t.txt)" 20 "fault setups collecting nothing, owner mismatch"
expect_eq "$(grep -c 'dmirror_devmem_fault: .* npages=1 cpages=0 setup_ret=0 owner_match=0 ' t.txt)" 20 "faults saying their setup collected nothing, owner mismatch"
expect_eq "$(grep 'dmirror_devmem_fault:' t.txt | sed 's/.*no_progress=\([0-9]*\).*/\1/' | tr '\n' ' ')" \
	"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 " "no_progress counts up"
expect_eq "$(grep -c 'dmirror_devmem_fault: .* result=0x0 migrated=0 ' t.txt)" 19 "faults returning 0 (refault)"
expect_eq "$(grep -c 'dmirror_devmem_fault: .* result=0x2 migrated=0 no_progress=20 ' t.txt)" 1 "last fault returns VM_FAULT_SIGBUS"
expect_eq "$(grep -c 'dmirror_fault_loop_guard: dev=0 .* count=20 limit=20$' t.txt)" 1 "guard event"
expect_eq "$(sed -n 's/.*dmirror_fault_loop_guard: .* dev_pfn=\([^ ]*\) .*/\1/p' t.txt)" \
	"$(sed -n 's/.*dmirror_alloc_and_copy: dev=0 dir=to_dev .* dst_pfn=\([^ ]*\) .*/\1/p' t.txt)" "guard names the migrated page"
dmesg | grep -q "fault loop: pid [0-9]* (dm_hold) faulted 20 times in a row at 0x" ||
	fail "no fault-loop warning naming dm_hold in the kernel log: $(dmesg | tail -3)"
expect_eq "$(dm_stat dev0.devmem_faults)" 20 "devmem_faults"
expect_eq "$(dm_stat dev0.faults_no_progress)" 20 "faults_no_progress"
expect_eq "$(dm_stat dev0.fault_loop_kills)" 1 "fault_loop_kills"
# The killed process took its device page with it.
expect_eq "$(dm_stat dev0.pages_in_use)" 0 "pages_in_use after the kill"
expect_eq "$(dm_stat dev0.shadow_live)" 0 "shadow_live after the kill"

note "fault_loop_limit=0: no guard, the loop runs until killed from outside"
echo 0 > $DM_DEBUGFS/fault_loop_limit
timeout -s TERM 3 dm_hold -n 1 -t > out.txt
status=$?
expect_eq "$status" 143 "dm_hold killed by timeout (128 + SIGTERM)"
expect_ge "$(dm_stat dev0.faults_no_progress)" 40 "faults_no_progress while looping unguarded"
expect_eq "$(dm_stat dev0.fault_loop_kills)" 1 "fault_loop_kills (unchanged)"

note "owner_mismatch=0: the same program runs clean"
echo 0 > $DM_DEBUGFS/owner_mismatch
echo 10000 > $DM_DEBUGFS/fault_loop_limit
dm_hold -n 4 -t > out.txt || fail "dm_hold failed with the bug off: $(cat out.txt)"
expect_eq "$(tail -1 out.txt)" "readback ok" "data after the bug is off"
expect_eq "$(dm_stat dev0.shadow_live)" 0 "shadow_live at the end"
unload_dmirror
echo "fault-loop guard OK"
