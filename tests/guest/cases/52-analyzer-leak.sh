# timeout: 600
# analyzer on leaked shadow pages: with leak_shadow the page_free callback
# keeps every shadow page.  The report must list exactly the leaked pages
# (one per devmem_free with released=0, as trace-cmd reads them, or per
# fault event carrying its page's free with free_released=0) and agree
# with the driver's shadow_live counter.
. /opt/dmirror/lib.sh
jnum() { grep -o "\"$1\": *-\{0,1\}[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
knob() { echo "$2" > $DM_DEBUGFS/$1 || fail "cannot set $1=$2"; }

load_dmirror
before=$(dm_stat total.shadow_live)
knob leak_shadow 1
analyzer record -o leak.dat -- workload -s 8
rc=$?
knob leak_shadow 0
after=$(dm_stat total.shadow_live)
expect_eq "$rc" 0 "the workload's exit status"

analyzer report leak.dat > report.txt
rc=$?
cat report.txt
expect_eq "$rc" 1 "analyzer report exit status with leaks"
analyzer report --json leak.dat > report.json
n=$(grep -o '"kind": "[a-z_]*"' report.json | grep -c -e freed_unreleased -e live_after_exit)
trace-cmd report -i leak.dat > tc.txt 2>&1 || fail "trace-cmd cannot read the file"
t=$(grep 'dmirror_devmem_free:' tc.txt | grep -c 'released=0')
f=$(grep 'dmirror_devmem_fault:' tc.txt | grep 'freed=1' | grep -c 'free_released=0')
expect_ge "$f" 1 "faults carrying an unreleased free (the driver's folding)"
t=$((t + f))
expect_ge "$n" 8 "leaked shadow pages reported"
expect_eq "$(grep -o '"kind": "freed_unreleased"' report.json | wc -l)" "$t" "leaks against devmem_free released=0 events"
grep -q '"agree": true' report.json || fail "the leak count disagrees with the driver's stats"
expect_eq "$((after - before))" "$(jnum stats_delta report.json)" "shadow_live delta in the file against the one read here"
echo "$n leaked shadow pages, shadow_live $before -> $after"
