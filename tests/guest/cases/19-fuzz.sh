# timeout: 480
# ioctl fuzzing: fuzz_ioctl (tests/guest/progs/fuzz_ioctl.c) on both
# devices at once, seeded, a fixed number of calls each (20000; 1000 on
# the debug kernel, which makes about 25 a second): every ioctl and unknown ones with hostile
# arguments, a thread closing the descriptor under it, children exiting
# with pages on the device.  Only error codes may come back, no call may
# keep a process in the kernel for more than 2 s, nothing in the kernel
# log.  Then seeded garbage for every debugfs knob: each write is accepted
# exactly when it is a number in range (what kstrtouint takes: digits, an
# optional leading '+', an optional trailing newline, at most 16 bytes)
# and the knob then holds that number; otherwise EINVAL and the knob is
# unchanged.  Afterwards the counters are back to baseline and rmmod works.
#
# Seed 1 unless FUZZ_SEED says otherwise (printed). Replay or try others:
# tests/guest/run -k newest -c 19-fuzz --env FUZZ_SEED=N [--env FUZZ_CALLS=N] [--env FUZZ_CAP=S]
. /opt/dmirror/lib.sh

seed=${FUZZ_SEED:-1}
if [ "$DM_FLAVOUR" = debug ]; then calls=${FUZZ_CALLS:-1000}; else calls=${FUZZ_CALLS:-20000}; fi
# The count is what is asked, not a speed: the time cap only ends a run
# that has stopped making progress (about 12 times slower than seen).
cap=${FUZZ_CAP:-300}
load_dmirror chunk_pages=512 max_chunks=2

note "fuzz_ioctl -s $seed (device 0) and -s $((seed + 1)) (device 1), $calls calls each"
start=$(cut -d. -f1 /proc/uptime)
fuzz_ioctl -s "$seed" -t "$cap" -n "$calls" -d /dev/dmirror0 -l 2000 > f0.txt 2>&1 &
p0=$!
fuzz_ioctl -s "$((seed + 1))" -t "$cap" -n "$calls" -d /dev/dmirror1 -l 2000 > f1.txt 2>&1 &
p1=$!
watchdog $((cap + 60)) fuzz_ioctl
wait $p0; r0=$?
wait $p1; r1=$?
kill $wd 2>/dev/null
took=$(( $(cut -d. -f1 /proc/uptime) - start ))
cat f0.txt f1.txt
# A failed fuzzer fails the case at the end: the knobs and the baseline
# checks still run, so one bug does not hide another.
ioctl_failed=
[ $r0 -eq 0 ] || ioctl_failed="fuzz_ioctl -s $seed on device 0 failed (exit $r0)"
[ $r1 -eq 0 ] || ioctl_failed="$ioctl_failed${ioctl_failed:+; }fuzz_ioctl -s $((seed + 1)) on device 1 failed (exit $r1)"
if [ -z "$ioctl_failed" ]; then
	made() { sed -n 's/^fuzz_ioctl: seed [0-9]*: \([0-9]*\) calls in.*/\1/p' "$1"; }
	c0=$(made f0.txt); c1=$(made f1.txt)
	expect_eq "$c0" "$calls" "ioctl calls on device 0 (fewer: cut off at ${cap}s)"
	expect_eq "$c1" "$calls" "ioctl calls on device 1 (fewer: cut off at ${cap}s)"
	echo "fuzz-ioctl: seed $seed: $((c0 + c1)) calls in ${took}s ($(( (c0 + c1) / (took > 0 ? took : 1) ))/s), no unexpected errno, none slower than 2000 ms"
fi

nknob=300
note "debugfs knobs: $nknob seeded garbage writes"
# One case per line, "knob<TAB>string" with N standing for a newline.
awk -v seed="$seed" -v nknob="$nknob" 'BEGIN {
	srand(seed);
	split("owner_mismatch leak_shadow bounce_copy fault_loop_limit", knobs, " ");
	alpha = "0123456789+- xa.N";
	for (i = 0; i < nknob; i++) {
		k = knobs[1 + int(rand() * 4)];
		r = rand();
		if (r < 0.08) s = "";
		else if (r < 0.25) {			# huge and boundary numbers
			split("4294967295 4294967296 2147483647 2147483648 18446744073709551615 99999999999999999999 0000000000000001 00000000000000001 +2147483647 +0 1N 0N 2N 10000N", b, " ");
			s = b[1 + int(rand() * 14)];
		} else if (r < 0.45) {			# a number, maybe decorated
			s = int(rand() * 3);
			if (rand() < 0.3) s = int(rand() * 2147483647);
			if (rand() < 0.2) s = "+" s;
			if (rand() < 0.3) s = s "N";
		} else {				# garbage
			n = 1 + int(rand() * 20);
			s = "";
			for (j = 0; j < n; j++)
				s = s substr(alpha, 1 + int(rand() * length(alpha)), 1);
		}
		print k "\t" s;
	}
}' > cases.txt
# One process makes every write and reads the knob before and after it
# (dm_ioctl write-each); the oracle is here, in awk: a write is accepted
# exactly when its string is what kstrtouint takes and in the knob's range,
# and the knob then holds the number; otherwise EINVAL and it is unchanged.
dm_ioctl write-each $DM_DEBUGFS < cases.txt > writes.txt ||
	fail "dm_ioctl write-each on the knobs"
awk -F '\t' -v seed="$seed" -v q="'" '
function expected(knob, s,    len, max) {
	len = length(s);
	if (len == 0 || len > 16) return "EINVAL";
	if (substr(s, len) == "\n") s = substr(s, 1, len - 1);
	if (substr(s, 1, 1) == "+") s = substr(s, 2);
	if (s !~ /^[0-9]+$/) return "EINVAL";
	sub(/^0+/, "", s); if (s == "") s = "0";
	max = (knob == "fault_loop_limit") ? "2147483647" : "1";
	if (length(s) > length(max) || (length(s) == length(max) && s > max)) return "EINVAL";
	return s;
}
{
	knob = $1; enc = $2; before = $3; got = $4; after = $5;
	s = enc; gsub(/N/, "\n", s);
	want = expected(knob, s);
	n++;
	if (want == "EINVAL") {
		if (got != "EINVAL")
			printf "FAIL: write " q "%s" q " to %s (seed %s): got %s, want EINVAL\n", enc, knob, seed, got;
		else if (after != before)
			printf "FAIL: %s after the refused write " q "%s" q " (seed %s): %s, was %s\n", knob, enc, seed, after, before;
		else
			next;
	} else if (got != "ok")
		printf "FAIL: write " q "%s" q " to %s (seed %s): got %s, want ok\n", enc, knob, seed, got;
	else if (after != want)
		printf "FAIL: %s after writing " q "%s" q " (seed %s): %s, want %s\n", knob, enc, seed, after, want;
	else {
		accepted++;
		next;
	}
	bad++;
}
END { printf "%d %d %d\n", n, accepted, bad }' writes.txt > verdicts.txt
grep '^FAIL' verdicts.txt | head -n 20
read -r n accepted bad < <(tail -n 1 verdicts.txt)
expect_eq "$bad" 0 "knob writes with a wrong result"
expect_eq "$n" "$nknob" "knob writes made"
expect_ge "$accepted" $((nknob / 15)) "knob writes accepted"
echo "knob fuzz: $n writes, $accepted accepted, $((n - accepted)) refused, every result as expected"
for k in owner_mismatch leak_shadow bounce_copy; do
	expect_eq "$(dm_ioctl write $DM_DEBUGFS/$k 0)" ok "reset $k"
done
expect_eq "$(dm_ioctl write $DM_DEBUGFS/fault_loop_limit 10000)" ok "reset fault_loop_limit"

cat $DM_DEBUGFS/stats
cat $DM_DEBUGFS/free_list
for d in 0 1; do
	expect_eq "$(dm_stat dev$d.pages_in_use)" 0 "dev$d.pages_in_use after fuzzing (seed $seed)"
	expect_eq "$(dm_stat dev$d.shadow_live)" 0 "dev$d.shadow_live after fuzzing (seed $seed)"
	expect_eq "$(dm_stat dev$d.shadow_allocated)" "$(dm_stat dev$d.shadow_freed)" \
		"dev$d shadow_allocated == shadow_freed (seed $seed)"
	expect_eq "$(awk -v k=dev$d.free '$1 == k { print $2 }' $DM_DEBUGFS/free_list)" \
		"$(dm_stat dev$d.pages_total)" "dev$d: every device page on the free list (seed $seed)"
done
expect_eq "$(cat /sys/module/dmirror/refcnt)" 0 "module refcount after fuzzing"
unload_dmirror
load_dmirror
workload -s 16 -q || fail "workload on a fresh module after fuzzing"
unload_dmirror
[ -z "$ioctl_failed" ] || fail "$ioctl_failed: replay with FUZZ_SEED=$seed"
echo "fuzz OK, seed $seed"
