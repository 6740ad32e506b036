# timeout: 5400
# make bench, inside the guest: every figure is a ratio of two things
# measured alternately in this one boot.  Prints "TABLE|..." lines that
# bench/run turns into docs/performance.md.
#
# BENCH_ROUNDS (default 5), BENCH_SIZES (default 4K,64K,2M,64M) and
# BENCH_EVENTS (events in the analyzer's trace, default 1000000) shrink it
# for the suite's short mode.
. /opt/dmirror/lib.sh

rounds=${BENCH_ROUNDS:-5}
sizes=${BENCH_SIZES:-4K,64K,2M,64M}
events=${BENCH_EVENTS:-1000000}
sargs=
for s in $(echo "$sizes" | tr , ' '); do sargs="$sargs -s $s"; done

load_dmirror
load_test_hmm
# A table's header, then its rows: "TABLE|H|name|col..." / "TABLE|R|name|val..."
table() { echo "TABLE|H|$*"; }
row() { echo "TABLE|R|$*"; }

# stats GROUP-FIELDS VALUE-FIELD < lines: median, min, max of VALUE per group
med() {
	sort -k1,1 -k2,2n | awk '
	function flush() { if (n) { printf "%s %d %d %d\n", key, v[int((n + 1) / 2)], v[1], v[n] } n = 0 }
	{ k = $1; if (k != key) { flush(); key = k } v[++n] = $2 }
	END { flush() }'
}

# throughput_table NAME FILE: the dmirror/test_hmm rows of one migrate_bench
# output ("RESULT device size way round pages ns"), memcpy as the floor.
throughput_table() {
	awk '$1 == "RESULT" { printf "%s:%s:%s %.0f\n", $2, $3, $4, $7 / $6 }' "$2" | med > "$2.med"
	for s in $(awk '{ split($1, a, ":"); print a[2] }' "$2.med" | sort -un); do
		copy=$(awk -v k="memcpy:$s:copy" '$1 == k { print $2 }' "$2.med")
		for w in to_dev fault to_sys; do
			awk -v n="$1" -v s="$s" -v w="$w" -v copy="$copy" -v kd="/dev/dmirror0:$s:$w" -v kt="/dev/hmm_dmirror0:$s:$w" '
			$1 == kd { d = $2; dl = $3; dh = $4 }
			$1 == kt { t = $2; tl = $3; th = $4 }
			END { if (d && t) printf "TABLE|R|%s|%s|%s|%.0f|%.0f|%.2f|%.0f-%.0f|%.0f-%.0f|%.0f|%.2f\n",
				n, s, w, 1e9 / d, 1e9 / t, t / d, 1e9 / dh, 1e9 / dl, 1e9 / th, 1e9 / tl,
				copy ? 1e9 / copy : 0, copy ? copy / d : 0 }' "$2.med"
		done
	done
}
cols="size|way|dmirror pages/s|test_hmm pages/s|dmirror/test_hmm|spread dmirror|spread test_hmm|memcpy pages/s|dmirror/memcpy"

# 1. Migration throughput, dmirror against test_hmm, memcpy as the floor.
note "throughput: $rounds rounds of $sizes, dmirror and test_hmm alternately"
migrate_bench -r "$rounds" $sargs /dev/dmirror0 /dev/hmm_dmirror0 > mig.txt ||
	fail "migrate_bench failed"
grep -c RESULT mig.txt | sed "s/^/measurements: /"
table "throughput|$cols"
throughput_table throughput mig.txt

# 1b. The same with transparent huge pages, for the sizes that hold one:
# what migrating PMD-sized folios buys, on kernels that can.
hsargs=
for s in $(echo "$sizes" | tr , ' '); do
	case $s in *[mMgG]) hsargs="$hsargs -s $s" ;; esac
done
if [ -n "$hsargs" ]; then
	note "throughput with THP:$hsargs"
	migrate_bench -H -r "$rounds" $hsargs /dev/dmirror0 /dev/hmm_dmirror0 > thp.txt ||
		fail "migrate_bench -H failed"
	table "thp|$cols"
	throughput_table thp thp.txt
fi

# 2. Tracepoint cost.  Three builds of the same driver, one at a time and
# alternately, round by round: compiled without tracepoints (NOTRACE, the
# build switch), with them but disabled, and with them recorded by
# analyzer record.
note "tracing cost: no tracepoints, disabled, recorded; alternately"
bench_as() {
	migrate_bench -r 1 $sargs /dev/dmirror0 | sed "s|/dev/dmirror0|$1|"
}
unload_dmirror
for r in $(seq "$rounds"); do
	insmod $DM_MODULES/dmirror-notrace.ko || fail "insmod dmirror-notrace.ko"
	bench_as notrace >> trace.txt
	unload_dmirror
	load_dmirror
	bench_as off >> trace.txt
	analyzer record -o rec.dat -- migrate_bench -r 1 $sargs /dev/dmirror0 2>/dev/null |
		sed 's|/dev/dmirror0|on|' >> trace.txt
	unload_dmirror
done
load_dmirror
awk '$1 == "RESULT" { printf "%s:%s:%s %.0f\n", $2, $3, $4, $7 / $6 }' trace.txt | med > trace.med
table "tracing|size|way|no tracepoints pages/s|disabled pages/s|recorded pages/s|disabled/none|recorded/disabled"
for s in $(awk '{ split($1, a, ":"); print a[2] }' trace.med | sort -un); do
	for w in to_dev fault to_sys; do
		awk -v s="$s" -v w="$w" -v kn="notrace:$s:$w" -v koff="off:$s:$w" -v kon="on:$s:$w" '
		$1 == kn { none = $2 } $1 == koff { off = $2 } $1 == kon { on = $2 }
		END { if (none && off && on) printf "TABLE|R|tracing|%s|%s|%.0f|%.0f|%.0f|%.3f|%.3f\n",
			s, w, 1e9 / none, 1e9 / off, 1e9 / on, none / off, off / on }' trace.med
	done
done

# 2b. What the kernel-probe source costs: the same driver not recorded,
# recorded through its own tracepoints, and through the kernel probes
# (analyzer record --source kernel, what a driver without tracepoints
# gets); the order rotates round by round, and each round's ratios are
# paired before the median is taken.
note "kernel-probe recording cost: not recorded, dmirror tracepoints, kernel probes; rotating"
kp_one() {
	case $1 in
	off) migrate_bench -r 1 $sargs /dev/dmirror0 ;;
	dm) analyzer record --source dmirror -o kp.dat -- migrate_bench -r 1 $sargs /dev/dmirror0 2>/dev/null ;;
	kp) analyzer record --source kernel -o kp.dat -- migrate_bench -r 1 $sargs /dev/dmirror0 2>/dev/null ;;
	esac | awk -v l="$1" -v r="$2" '$1 == "RESULT" { printf "%s %s %s %s %.0f\n", l, r, $3, $4, $7 / $6 }'
}
for r in $(seq "$rounds"); do
	case $((r % 3)) in
	0) order="off dm kp" ;;
	1) order="dm kp off" ;;
	*) order="kp off dm" ;;
	esac
	for m in $order; do kp_one $m $r >> kprobe.txt; done
done
rm -f kp.dat
table "kprobes|size|way|not recorded pages/s|dmirror recorded/not|kernel probes recorded/not|spread kernel/not|kernel probes/dmirror"
awk '{ ns[$1, $2, $3, $4] = $5; key[$3 " " $4] = 1; rounds[$2] = 1 }
END {
	for (k in key) {
		split(k, a, " ")
		n = 0
		for (r in rounds) {
			off = ns["off", r, a[1], a[2]]; dm = ns["dm", r, a[1], a[2]]; kp = ns["kp", r, a[1], a[2]]
			if (!off || !dm || !kp) continue
			n++; rd[n] = off / dm; rk[n] = off / kp; rkd[n] = dm / kp; o[n] = off
		}
		if (!n) continue
		# median of the per-round ratios, with their spread
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
			if (rd[j] < rd[i]) { x = rd[i]; rd[i] = rd[j]; rd[j] = x }
			if (rk[j] < rk[i]) { x = rk[i]; rk[i] = rk[j]; rk[j] = x }
			if (rkd[j] < rkd[i]) { x = rkd[i]; rkd[i] = rkd[j]; rkd[j] = x }
			if (o[j] < o[i]) { x = o[i]; o[i] = o[j]; o[j] = x }
		}
		m = int((n + 1) / 2)
		printf "TABLE|R|kprobes|%s|%s|%.0f|%.2f|%.2f|%.2f-%.2f|%.2f\n", a[1], a[2], 1e9 / o[m],
			rd[m], rk[m], rk[1], rk[n], rkd[m]
	}
}' kprobe.txt | sort -t'|' -k4,4n -k5,5

# 3. Analyzer speed: one recorded trace of at least $events dmirror events
# (about six per page per migration cycle), then ten times that.  The
# workload's pages move one by one (THP off here: huge folios would make
# a 512th of the events), the driver's busiest event rate.
echo never > /sys/kernel/mm/transparent_hugepage/enabled
pages=4096
iters=$(( events / (pages * 6) + 1 ))
# speed FILE LABEL ROUNDS
speed() {
	file=$1 label=$2
	n=$(analyzer report --json "$file" | sed -n 's/.*"dmirror": \([0-9]*\).*/\1/p' | head -n1)
	for r in $(seq "$3"); do
		rusage analyzer report "$file" | sed "s/^RUSAGE/A/"
		rusage trace-cmd report "$file" | sed "s/^RUSAGE/T/"
	done > speed.$label
	awk -v n="$n" -v label="$label" '
	{ t[$1, ++c[$1]] = $2; m[$1] = ($3 > m[$1]) ? $3 : m[$1]; h[$1] = ($5 > h[$1]) ? $5 : h[$1] }
	END {
		for (k in c) { # median wall time per tool
			cnt = c[k]; for (i = 1; i <= cnt; i++) v[i] = t[k, i]
			for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			med[k] = v[int((cnt + 1) / 2)]
		}
		printf "TABLE|R|analyzer|%s|%d|%.2f|%d|%d|%.2f|%d|%d|%.1f\n", label, n,
			med["A"] / 1e9, m["A"], h["A"], med["T"] / 1e9, m["T"], h["T"], med["T"] / med["A"]
	}' speed.$label
}
note "analyzer speed: recording $iters cycles of $pages pages"
analyzer record -b 65536 -o big.dat -- workload -q -s $pages -i $iters || fail "recording the big trace failed"
table "analyzer|trace|dmirror events|analyzer report s|analyzer peak RSS KiB|analyzer peak anon KiB|trace-cmd report s|trace-cmd peak RSS KiB|trace-cmd peak anon KiB|speed-up"
speed big.dat 1x "$rounds"
# The 10x trace and the recorder's per-CPU spill files need the room.
rm -f rec.dat big.dat
mount -o remount,size=90% /tmp
note "analyzer speed: recording $((iters * 10)) cycles"
analyzer record -b 65536 -o big10.dat -- workload -q -s $pages -i $((iters * 10)) || fail "recording the 10x trace failed"
# One round: trace-cmd takes minutes on it under TCG.
speed big10.dat 10x 1
rm -f big10.dat

# 4. Lost events at the driver's largest event rate (the CPU fault path,
# one page at a time) with analyzer record's default buffer.
note "lost events with the default buffer"
analyzer record -o std.dat -- workload -q -s $pages -i $iters || fail "recording with the default buffer failed"
analyzer report --json std.dat > std.json
table "lost|cpu|events lost"
analyzer report --json std.dat | tr '{},' '\n\n\n' | sed -n 's/.*"cpu\([0-9]*\)": *\([0-9]*\).*/TABLE|R|lost|cpu\1|\2/p'
row "lost|total|$(sed -n 's/.*"lost": {"events": \([0-9]*\).*/\1/p' std.json)"
