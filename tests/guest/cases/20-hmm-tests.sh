# timeout: 1500
# The kernel's own hmm-tests selftest, built from this kernel's source
# package, against the upstream test_hmm.ko (the reference) and then
# against dmirror.ko in the same guest.  Every case that passes against the
# reference must pass against dmirror.
. /opt/dmirror/lib.sh

# Some cases need free huge pages; both modules get the same machine.
echo 32 > /proc/sys/vm/nr_hugepages

# run_hmm_tests MODULE DEVICE-PREFIX: TAP output into MODULE.tap
run_hmm_tests() {
	insmod $DM_MODULES/$1.ko || fail "insmod $1.ko"
	[ "$2" = hmm_dmirror ] || link_hmm_devices "$2"
	ls -l /dev/hmm_dmirror*
	note "hmm-tests against $1.ko"
	# 6.1's kselftest harness loops printing a failed ASSERT in a fixture
	# teardown until its per-test timeout kills the case: fold the repeats
	# (cutting the pipe instead would kill the cases after it too).
	timeout -s KILL 900 hmm-tests 2>&1 | uniq | head -c 50000000 > "$1.tap"
	# The verdicts, and the first few diagnostic lines of each case.
	awk '/^#  RUN / { n = 0; print; next }
	     /^(not )?ok [0-9]+ / || /^# (Totals|FAILED|PASSED)/ { print; next }
	     /^#/ && n++ < 3 { print }' "$1.tap"
	[ "$2" = hmm_dmirror ] || rm -f /dev/hmm_dmirror*
	rmmod "$1" || fail "rmmod $1 after hmm-tests"
}

# verdicts FILE: "name pass|fail|skip" per case.  A skipped case is "ok"
# in TAP; older harnesses say SKIP only on a "#      SKIP" line before it.
verdicts() {
	awk '/^#  RUN / { skipped = 0 }
	     /^# +SKIP/ { skipped = 1 }
	     /^not ok [0-9]+ / { print $4, "fail"; next }
	     /^ok [0-9]+ / { print $3, (skipped || $0 ~ /# SKIP/) ? "skip" : "pass" }' "$1"
}

totals() {
	verdicts "$1" | awk -v m="$2" '{ c[$2]++ }
		END { printf "hmm-tests[%s]: pass:%d fail:%d skip:%d\n", m, c["pass"], c["fail"], c["skip"] }'
}

run_hmm_tests test_hmm hmm_dmirror
[ -f $DM_MODULES/dmirror.ko ] || fail "dmirror.ko is not in the guest"
run_hmm_tests dmirror dmirror

verdicts test_hmm.tap > ref.txt
verdicts dmirror.tap > ours.txt
[ -s ref.txt ] || fail "hmm-tests printed no results against test_hmm.ko"

echo
printf '%-56s %-9s %s\n' "hmm-tests case" "test_hmm" "dmirror"
regressions=0
while read -r name ref; do
	ours=$(awk -v n="$name" '$1 == n { print $2 }' ours.txt)
	mark=
	if [ "$ref" = pass ] && [ "$ours" != pass ]; then
		mark="  <-- regression"
		regressions=$((regressions + 1))
	fi
	printf '%-56s %-9s %s%s\n' "$name" "$ref" "${ours:-missing}" "$mark"
done < ref.txt
echo
totals test_hmm.tap test_hmm
totals dmirror.tap dmirror
[ "$regressions" -eq 0 ] || fail "$regressions hmm-tests case(s) pass against test_hmm.ko but not against dmirror.ko"
