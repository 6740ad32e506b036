# timeout: 600
# analyzer on a fault loop: with owner_mismatch the fault path's
# migrate_vma_setup collects nothing; the guard (fault_loop_limit) ends it
# with SIGBUS.  The report must show the loop at the workload's address with
# the owner-mismatch cause and the guard.
. /opt/dmirror/lib.sh
jnum() { grep -o "\"$1\": *-\{0,1\}[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
knob() { echo "$2" > $DM_DEBUGFS/$1 || fail "cannot set $1=$2"; }

load_dmirror
knob fault_loop_limit 50
knob owner_mismatch 1
analyzer record -o loop.dat -- workload -s 1
rc=$?
knob owner_mismatch 0
echo "workload exited $rc"
expect_eq "$rc" 135 "the workload's status (SIGBUS from the guard: 128+7)"

analyzer report loop.dat > report.txt
rc=$?
cat report.txt
expect_eq "$rc" 1 "analyzer report exit status with a fault loop"
grep -q "pgmap_owner does not match the owner of the device page" report.txt ||
	fail "the owner-mismatch cause is not given"

analyzer report --json loop.dat > report.json
expect_eq "$(grep -c '"cause": {"code": "owner_mismatch"' report.json)" 1 "fault loops with the owner-mismatch cause"
grep -q '"guard": {"fired": true, "count": 50, "limit": 50' report.json || fail "the guard is not reported"
expect_ge "$(jnum count report.json)" 8 "faults in the loop"
# the workload's buffer, as trace-cmd reads it: its to_dev migration
trace-cmd report -N -i loop.dat > tc.txt 2>&1 || fail "trace-cmd cannot read the file"
start=$(grep 'dmirror_migrate_setup:' tc.txt | grep -m1 'dir=to_dev' | sed 's/.* start=\(0x[0-9a-f]*\).*/\1/')
end=$(grep 'dmirror_migrate_setup:' tc.txt | grep -m1 'dir=to_dev' | sed 's/.* end=\(0x[0-9a-f]*\).*/\1/')
addr=$(sed -n 's/.*"addr": "\(0x[0-9a-f]*\)".*/\1/p' report.json | head -n1)
[ -n "$start" ] && [ -n "$addr" ] || fail "no to_dev migration ($start) or no loop address ($addr)"
[ $((addr)) -ge $((start)) ] && [ $((addr)) -lt $((end)) ] ||
	fail "the loop at $addr is not in the workload's buffer [$start, $end)"
echo "fault loop at $addr in the workload's buffer [$start, $end)"
hand_back loop.dat report.txt report.json tc.txt
