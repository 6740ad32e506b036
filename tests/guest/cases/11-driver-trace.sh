# timeout: 300
# Every dmirror tracepoint has the fields docs/tracepoints.md promises, with
# the documented types, and a known sequence (4 pages to the device, read
# back by the CPU) leaves exactly the expected events with consistent
# values: the same device pfns and shadow pfns from allocation to free.
# With fold_events held open the fault path leaves one event per fault,
# carrying what the others said.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=2
ev=$DM_TRACEFS/events/dmirror

# field EVENT "TYPE NAME": the event's format declares that field
field() {
	grep -q "field:$2;" $ev/$1/format ||
		fail "$1 has no field '$2': $(grep field: $ev/$1/format | grep -v common_)"
}
for e in dmirror_migrate_setup dmirror_migrate_finalize; do
	field $e "unsigned int dev"; field $e "u8 dir"; field $e "u8 fault"
	field $e "unsigned long start"; field $e "unsigned long end"
	field $e "unsigned long npages"; field $e "unsigned long cpages"
done
field dmirror_migrate_setup "u8 owner_match"
field dmirror_migrate_setup "int ret"
field dmirror_migrate_finalize "unsigned long migrated"
field dmirror_migrate_finalize "u64 duration_ns"
e=dmirror_alloc_and_copy
field $e "unsigned int dev"; field $e "u8 dir"; field $e "u8 fault"
field $e "unsigned long addr"; field $e "unsigned long src_pfn"; field $e "unsigned long dst_pfn"
field $e "unsigned long shadow_pfn"; field $e "u8 write"
e=dmirror_devmem_fault
field $e "unsigned int dev"; field $e "unsigned long addr"
field $e "unsigned long dev_pfn"; field $e "int pid"
field $e "unsigned int result"; field $e "unsigned long migrated"
field $e "unsigned int no_progress"; field $e "unsigned int npages"
field $e "unsigned int cpages"; field $e "int setup_ret"; field $e "u8 owner_match"
field $e "u64 duration_ns"; field $e "u8 freed"; field $e "u8 free_order"
field $e "u8 free_released"; field $e "unsigned long free_pfn"
field $e "unsigned long free_shadow_pfn"; field $e "unsigned long free_pages"
e=dmirror_fault_loop_guard
field $e "unsigned int dev"; field $e "unsigned long addr"
field $e "unsigned long dev_pfn"; field $e "int pid"
field $e "unsigned int count"; field $e "unsigned int limit"
e=dmirror_devmem_free
field $e "unsigned int dev"; field $e "unsigned long dev_pfn"
field $e "unsigned long shadow_pfn"; field $e "u8 released"
field $e "unsigned long free_pages"
for e in dmirror_chunk_add dmirror_chunk_remove; do
	field $e "unsigned int dev"; field $e "unsigned long first_pfn"
	field $e "unsigned long npages"; field $e "unsigned long total_pages"
done
e=dmirror_evict
field $e "unsigned int dev"; field $e "unsigned long first_pfn"
field $e "unsigned long npages"; field $e "unsigned long collected"
field $e "unsigned long migrated"
note "every event has its documented fields"

trace_reset
trace_enable 'dmirror:*'
workload -s 4 -q > out.txt || fail "workload failed: $(cat out.txt)"
echo 0 > $DM_TRACEFS/tracing_on
grep dmirror_ $DM_TRACEFS/trace > t.txt
cat t.txt

# count PATTERN: lines of the trace matching an extended regex
count() { grep -cE "$1" t.txt; }
# val LINE-PATTERN FIELD: the values of FIELD on matching lines
val() { grep -E "$1" t.txt | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

expect_eq "$(count 'dmirror_chunk_add: dev=0 first_pfn=0x[0-9a-f]+ npages=512 total_pages=512$')" 1 "chunk_add"
expect_eq "$(count 'dmirror_migrate_setup: dev=0 dir=to_dev fault=0 start=0x[0-9a-f]+ end=0x[0-9a-f]+ npages=4 cpages=4 owner_match=1 ret=0$')" 1 "to_dev migrate_setup"
expect_eq "$(count 'dmirror_alloc_and_copy: dev=0 dir=to_dev fault=0 .* write=1$')" 4 "to_dev alloc_and_copy"
expect_eq "$(count 'dmirror_migrate_finalize: dev=0 dir=to_dev fault=0 .* npages=4 cpages=4 migrated=4 duration_ns=[0-9]+$')" 1 "to_dev migrate_finalize"
expect_eq "$(count 'dmirror_migrate_setup: dev=0 dir=to_ram fault=1 .* npages=1 cpages=1 owner_match=1 ret=0$')" 4 "fault migrate_setup"
expect_eq "$(count 'dmirror_alloc_and_copy: dev=0 dir=to_ram fault=1 ')" 4 "to_ram alloc_and_copy"
expect_eq "$(count 'dmirror_migrate_finalize: dev=0 dir=to_ram fault=1 .* migrated=1 ')" 4 "fault migrate_finalize"
expect_eq "$(count 'dmirror_devmem_fault: dev=0 .* result=0x0 migrated=1 no_progress=0 npages=1 cpages=1 setup_ret=0 owner_match=1 duration_ns=[1-9][0-9]* freed=0 free_pfn=0x0 free_order=0 free_shadow_pfn=0x0 free_released=0 free_pages=0$')" 4 "devmem_fault"
# what each fault's setup and finalize said, its fault event says too
expect_eq "$(val 'devmem_fault:' duration_ns | sorted)" "$(val 'migrate_finalize: .*fault=1' duration_ns | sorted)" "fault durations"
expect_eq "$(count 'dmirror_devmem_free: dev=0 .* released=1 ')" 4 "devmem_free"
expect_eq "$(count 'dmirror_fault_loop_guard')" 0 "fault_loop_guard"

# The same pages all along: allocated (to_dev dst), faulted on, copied
# back (to_ram src) and freed; and the same shadow pages.
sorted() { sort | tr '\n' ' '; }
dev_pfns=$(val 'alloc_and_copy: .*dir=to_dev' dst_pfn | sorted)
shadows=$(val 'alloc_and_copy: .*dir=to_dev' shadow_pfn | sorted)
expect_eq "$(val 'devmem_fault:' dev_pfn | sorted)" "$dev_pfns" "pfns faulted on"
expect_eq "$(val 'alloc_and_copy: .*dir=to_ram' src_pfn | sorted)" "$dev_pfns" "pfns copied back"
expect_eq "$(val 'devmem_free:' dev_pfn | sorted)" "$dev_pfns" "pfns freed"
expect_eq "$(val 'alloc_and_copy: .*dir=to_ram' shadow_pfn | sorted)" "$shadows" "shadows copied from"
expect_eq "$(val 'devmem_free:' shadow_pfn | sorted)" "$shadows" "shadows released"
first=$(val 'chunk_add:' first_pfn)
for p in $dev_pfns; do
	[ $((p)) -ge $((first)) ] && [ $((p)) -lt $((first + 512)) ] ||
		fail "device pfn $p outside the chunk at $first"
done
# Addresses: the 4 faults hit the 4 pages the to_dev copies named.
expect_eq "$(val 'devmem_fault:' addr | sorted)" "$(val 'alloc_and_copy: .*dir=to_dev' addr | sorted)" "fault addresses"
# The fault's pid is the workload's tgid, as the trace's own pid column says.
tgid=$(grep devmem_fault: t.txt | head -1 | sed 's/.*-\([0-9]*\) *\[.*/\1/')
expect_eq "$(val 'devmem_fault:' pid | sort -u)" "$tgid" "devmem_fault pid"
expect_eq "$(val 'devmem_free:' free_pages | sort -n | tail -1)" 512 "free_pages after the last free"

# Folded: the same sequence, fold_events held open by this shell.  No
# setup, copy or finalize of a fault, no devmem_free of a faulted page:
# each fault's event says what they said (dmirror_batch off: no batch).
trace_reset
trace_enable 'dmirror:*' '!dmirror:dmirror_batch'
exec 3> $DM_DEBUGFS/fold_events || fail "cannot hold fold_events"
expect_eq "$(cat $DM_DEBUGFS/fold_events)" 1 "holders of fold_events"
workload -s 4 -q > out.txt || fail "workload failed folded: $(cat out.txt)"
exec 3>&-
expect_eq "$(cat $DM_DEBUGFS/fold_events)" 0 "holders of fold_events once closed"
echo 0 > $DM_TRACEFS/tracing_on
grep dmirror_ $DM_TRACEFS/trace > t.txt
cat t.txt
expect_eq "$(count 'dmirror_(migrate_setup|alloc_and_copy|migrate_finalize): dev=0 dir=to_ram fault=1 ')" 0 "fault-path steps, folded"
expect_eq "$(count 'dmirror_devmem_free:')" 0 "devmem_free, folded"
expect_eq "$(count 'dmirror_devmem_fault: dev=0 .* result=0x0 migrated=1 no_progress=0 npages=1 cpages=1 setup_ret=0 owner_match=1 duration_ns=[1-9][0-9]* freed=1 free_pfn=0x[0-9a-f]+ free_order=0 free_shadow_pfn=0x[0-9a-f]+ free_released=1 free_pages=[0-9]+$')" 4 "devmem_fault carrying its free"
dev_pfns=$(val 'alloc_and_copy: .*dir=to_dev' dst_pfn | sorted)
expect_eq "$(val 'devmem_fault:' dev_pfn | sorted)" "$dev_pfns" "pfns faulted on, folded"
expect_eq "$(val 'devmem_fault:' free_pfn | sorted)" "$dev_pfns" "pfns freed, folded"
expect_eq "$(val 'devmem_fault:' free_shadow_pfn | sorted)" "$(val 'alloc_and_copy: .*dir=to_dev' shadow_pfn | sorted)" "shadows released, folded"
expect_eq "$(val 'devmem_fault:' free_pages | sort -n | tail -1)" 512 "free_pages after the last free, folded"

# Batched: with dmirror_batch on too, the 4 faults, each of which moved
# its page as it should, are one batch (traced at the latest when the
# holder lets go), their devmem_fault events in it.
trace_reset
trace_enable 'dmirror:*'
exec 3> $DM_DEBUGFS/fold_events || fail "cannot hold fold_events"
workload -s 4 -q > out.txt || fail "workload failed batched: $(cat out.txt)"
exec 3>&-
echo 0 > $DM_TRACEFS/tracing_on
grep dmirror_ $DM_TRACEFS/trace > t.txt
cat t.txt
# arr FIELD: the elements of FIELD's array in every dmirror_batch event, in decimal
arr() { sed -n "s/.*dmirror_batch: .* $1={\([^}]*\)}.*/\1/p" t.txt | tr ',' '\n' | while read -r x; do printf '%d\n' "$x"; done; }
dec() { while read -r x; do printf '%d\n' "$x"; done; }
expect_eq "$(count 'dmirror_devmem_fault:')" 0 "devmem_fault, batched"
expect_eq "$(count 'dmirror_devmem_free:')" 0 "devmem_free, batched"
expect_eq "$(count 'dmirror_batch: dev=0 n=4 ')" 1 "one batch of 4 faults"
expect_eq "$(arr dev_pfn | sorted)" "$(val 'alloc_and_copy: .*dir=to_dev' dst_pfn | dec | sorted)" "pfns faulted on, batched"
expect_eq "$(arr shadow_pfn | sorted)" "$(val 'alloc_and_copy: .*dir=to_dev' shadow_pfn | dec | sorted)" "shadows released, batched"
expect_eq "$(arr addr | sorted)" "$(val 'alloc_and_copy: .*dir=to_dev' addr | dec | sorted)" "fault addresses, batched"
tgid=$(grep 'alloc_and_copy: .*dir=to_dev' t.txt | head -1 | sed 's/.*-\([0-9]*\) *\[.*/\1/')
expect_eq "$(arr pid | sort -u)" "$tgid" "faulting process, batched"
expect_eq "$(arr free_pages | sort -n | tail -1)" 512 "free_pages after the last free, batched"
expect_eq "$(arr duration_ns | awk '$1 > 0' | wc -l)" 4 "fault durations, batched"
expect_eq "$(arr fault | sorted)" "1 1 1 1 " "batch entries that are faults"

# Folded MIGRATE_TO_SYS (migrate_bench's to_sys way, 16 pages a call):
# no copy or free event per page, the pages in the runs of
# dmirror_returned and dmirror_window events, as many as the finalizes
# (their own, or a window's) say moved; a window with nothing else to
# trace is one dmirror_window, its setup and finalize in it.
trace_reset
trace_enable 'dmirror:*'
exec 3> $DM_DEBUGFS/fold_events || fail "cannot hold fold_events"
migrate_bench -r 1 -s 64K /dev/dmirror0 > out.txt || fail "migrate_bench failed folded: $(cat out.txt)"
exec 3>&-
echo 0 > $DM_TRACEFS/tracing_on
grep dmirror_ $DM_TRACEFS/trace > t.txt
expect_eq "$(count 'dmirror_alloc_and_copy: dev=0 dir=to_ram ')" 0 "MIGRATE_TO_SYS copies, folded"
expect_eq "$(count 'dmirror_devmem_free:')" 0 "devmem_free, folded"
runs=$(grep -E 'dmirror_(returned|window): ' t.txt | sed 's/.*npages0=\([0-9]*\) .*npages1=\([0-9]*\) .*npages2=\([0-9]*\) .*npages3=\([0-9]*\).*/\1+\2+\3+\4/' | paste -sd+)
moved=$( (grep -E 'dmirror_migrate_finalize: dev=0 dir=to_ram fault=0 ' t.txt; grep -E 'dmirror_window: ' t.txt) |
	sed -n 's/.* migrated=\([0-9]*\) .*/\1/p' | paste -sd+)
expect_ge "$((moved))" 16 "pages MIGRATE_TO_SYS moved"
expect_eq "$((runs))" "$((moved))" "pages in the runs against the pages moved"
windows=$(count 'dmirror_window: dev=0 start=0x[0-9a-f]+ end=0x[0-9a-f]+ npages=16 cpages=16 owner_match=1 migrated=16 duration_ns=[1-9][0-9]* free_pages=[0-9]+ pfn0=0x[0-9a-f]+ npages0=16 ')
expect_ge "$windows" 1 "whole 16-page windows in one dmirror_window"
expect_eq "$(count 'dmirror_migrate_setup: dev=0 dir=to_ram fault=0 ')" \
	"$(count 'dmirror_migrate_finalize: dev=0 dir=to_ram fault=0 ')" "to_ram setups against finalizes outside the windows"

# Disabled events cost nothing and record nothing.
trace_reset
workload -s 4 -q > /dev/null || fail "workload failed with events off"
expect_eq "$(grep -c dmirror_ $DM_TRACEFS/trace)" 0 "events recorded while disabled"

unload_dmirror
echo "tracepoints OK"
