# timeout: 600
# analyzer record --live --stop-on-loop: with owner_mismatch and no guard
# (fault_loop_limit 0) the workload would loop for ever; the live analysis
# must see the loop and kill it.
. /opt/dmirror/lib.sh
jnum() { grep -o "\"$1\": *-\{0,1\}[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
knob() { echo "$2" > $DM_DEBUGFS/$1 || fail "cannot set $1=$2"; }

load_dmirror
knob fault_loop_limit 0
knob owner_mismatch 1
timeout 300 analyzer record --live --stop-on-loop -o live.dat -- workload -s 1 2> live.err
rc=$?
knob owner_mismatch 0
cat live.err
expect_eq "$rc" 137 "the workload killed by --stop-on-loop"
grep -q 'LIVE .*fault loop' live.err || fail "no live fault-loop notice"
analyzer report live.dat > /dev/null
expect_eq "$?" 1 "the report of the killed run"
