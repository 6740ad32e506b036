# timeout: 900
# dmirror itself seen through the kernel probes.  One recording with both
# sources, analysed twice: under owner_mismatch the kernel's view finds
# the loop dmirror's tracepoints find, at the same address of the same
# process; on a clean run both count the same pages each way (calls over
# 16 pages included, which the kernel view counts from the device pages).  Then a
# recording with the kernel probes alone (dmirror's events off) finds the
# loop too.
. /opt/dmirror/lib.sh
. /opt/dmirror/kprobe.sh
skip_on_debug
knob() { echo "$2" > $DM_DEBUGFS/$1 || fail "cannot set $1=$2"; }

# record_loop SOURCE FILE: one fault loop under owner_mismatch, recorded;
# the fault-loop guard ends it with SIGBUS
record_loop() {
	knob owner_mismatch 1
	analyzer record --source $1 -o $2 -- workload -s 1 2> rec.err
	rc=$?
	knob owner_mismatch 0
	cat rec.err
	expect_eq "$rc" 135 "the workload's status (SIGBUS from the guard)"
}

load_dmirror
note "a clean run, both sources"
# 300 pages: more than the finalize event's src[] shows, so the kernel
# view counts the migrations to the device from the device pages
analyzer record --source both -o both.dat -- workload -q -s 300 -i 2 2> rec.err || { cat rec.err; fail "record"; }
cat rec.err
grep -q 'source: kernel probes .*, and dmirror tracepoints' rec.err || fail "not both sources"
analyzer report --json --source dmirror both.dat > d.json || fail "the dmirror view of a clean run is not clean"
analyzer report --json --source kernel both.dat > k.json || fail "the kernel view of a clean run is not clean"
expect_eq "$(jstr source d.json)" dmirror "--source dmirror"
expect_eq "$(jstr source k.json)" kernel "--source kernel"
for key in pages_to_dev pages_to_ram_fault pages_to_ram_ioctl devmem_faults frees; do
	d=$(jtotal $key d.json)
	k=$(jtotal $key k.json)
	echo "$key: dmirror $d, kernel $k"
	expect_eq "$k" "$d" "$key: the kernel probes against dmirror's tracepoints"
done
expect_ge "$(jtotal pages_to_dev d.json)" 600 "pages moved to the device"
expect_ge "$(jnum inferred_calls k.json)" 2 "calls whose moved pages the kernel view inferred"

note "owner_mismatch, both sources"
knob fault_loop_limit 50
record_loop both loop.dat
analyzer report --json --source dmirror loop.dat > d.json
expect_eq "$?" 1 "the dmirror view of the loop"
analyzer report --json --source kernel loop.dat > k.json
expect_eq "$?" 1 "the kernel view of the loop"
analyzer report --source kernel loop.dat
for key in pid addr; do
	d=$(jnum $key d.json); [ "$key" = addr ] && d=$(jstr $key d.json)
	k=$(jnum $key k.json); [ "$key" = addr ] && k=$(jstr $key k.json)
	expect_eq "$k" "$d" "the loop's $key: kernel probes against dmirror's tracepoints"
done
expect_eq "$(grep -c '"cause": {"code": "owner_mismatch"' d.json)" 1 "dmirror's cause"
expect_eq "$(grep -c '"cause": {"code": "owner_mismatch"' k.json)" 1 "the kernel probes' cause"
case $(jstr callback k.json) in
*"[dmirror]") ;;
*) fail "the kernel view's callback is not in dmirror.ko: $(jstr callback k.json)" ;;
esac

note "owner_mismatch, the kernel probes alone"
record_loop kernel k.dat
grep -q 'dmirror tracepoints' rec.err && fail "--source kernel recorded dmirror's events"
analyzer report --json k.dat > k2.json
expect_eq "$?" 1 "the kernel view of the loop"
expect_eq "$(grep -c '"cause": {"code": "owner_mismatch"' k2.json)" 1 "the kernel probes' cause"
addr=$(jstr addr k2.json)
in_range "$addr" "$(todev_range k.dat)" || fail "the loop at $addr is not in the workload's buffer"
expect_nothing_left "the dmirror recordings"
unload_dmirror
echo "dmirror under the kernel probes: same counts, same loop"
