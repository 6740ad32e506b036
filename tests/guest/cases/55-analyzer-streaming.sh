# timeout: 600
# analyzer record streams the per-CPU pages while the workload runs: a long
# run with a small buffer loses nothing.  That needs a CPU for the recorder
# besides the one the workload keeps busy.
. /opt/dmirror/lib.sh
jnum() { grep -o "\"$1\": *-\{0,1\}[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
[ "$(nproc)" -ge 2 ] || skip "the guest has $(nproc) CPU: the recorder cannot drain while the workload runs"

load_dmirror
# streaming: a 256 KB per-CPU buffer and many times that in events
analyzer record -b 256 -o long.dat -- workload -q -s 256 -i 40 || fail "the long run failed"
analyzer report --json long.dat > long.json
n=$(jnum dmirror long.json)
lost=$(sed -n 's/.*"lost": {"events": \([0-9]*\).*/\1/p' long.json)
kb=$(( $(stat -c %s long.dat) / 1024 ))
echo "long run: $n dmirror events, $kb KB, $lost lost"
# (the driver batches the faults that go as they should: events are fewer
# than pages moved, so it is the file that says how much went through)
expect_ge "$kb" 1024 "KB of trace in the long run (4 times the 256 KB buffer)"
total=$(grep -o '"total": {"pages_to_dev": [0-9]*, "pages_to_ram_fault": [0-9]*' long.json | sed 's/.* //')
expect_ge "$total" 10240 "pages faulted back in the long run"
expect_eq "$lost" 0 "events lost"
