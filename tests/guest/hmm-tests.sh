# Shared by the hmm-tests cases: . /opt/dmirror/hmm-tests.sh
# Results of one boot are kept in $HMM_RESULTS so the comparison case can
# reuse the reference run of the same guest.
HMM_RESULTS=/tmp/hmm-tests
mkdir -p $HMM_RESULTS

# hmm_tests_skips: "-T NAME" for each case that HMM_TESTS_SKIP names
# (commas between) and this series' hmm-tests has.  make check names
# benchmark_thp_migration, which times migrations of THP buffers of
# growing size: 58 of the 70 s a run takes on 7.3 under TCG, three runs
# a suite.  make check-all runs every case.
hmm_tests_skips() {
	local name
	for name in $(echo "${HMM_TESTS_SKIP-}" | tr , " "); do
		hmm-tests -l 2>&1 | awk '{ print $NF }' | grep -qx "$name" || continue
		echo "hmm-tests: not running $name (HMM_TESTS_SKIP)" >&2
		printf -- '-T %s ' "$name"
	done
}

# run_hmm_tests MODULE DEVICE-PREFIX: TAP output in $HMM_RESULTS/MODULE.tap
run_hmm_tests() {
	insmod $DM_MODULES/$1.ko || fail "insmod $1.ko"
	[ "$2" = hmm_dmirror ] || link_hmm_devices "$2"
	# Some cases need free huge pages; every module gets the same machine.
	echo 32 > /proc/sys/vm/nr_hugepages
	# THP "always" backs hmm-tests' anonymous buffers with huge folios,
	# which 6.1's and 6.12's make_device_exclusive_range() refuse (EBUSY):
	# the exclusive cases then fail against test_hmm.ko itself and compare
	# nothing.  The cases that want huge pages ask with MADV_HUGEPAGE.
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $thp)
	echo madvise > $thp
	note "hmm-tests against $1.ko"
	# 6.1's kselftest harness loops printing a failed ASSERT in a fixture
	# teardown until its per-test timeout kills the case: fold the repeats
	# (cutting the pipe instead would kill the cases after it too).
	# HMM_TESTS_TIMEOUT: a shorter limit, for the harness's own test of a
	# run cut off by it.
	# shellcheck disable=SC2046
	timeout -s KILL "${HMM_TESTS_TIMEOUT:-900}" hmm-tests $(hmm_tests_skips) 2>&1 | uniq | head -c 50000000 > $HMM_RESULTS/$1.tap
	# The verdicts, and the first few diagnostic lines of each case.
	awk '/^#  RUN / { n = 0; print; next }
	     /^(not )?ok [0-9]+ / || /^# (Totals|FAILED|PASSED)/ { print; next }
	     /^#/ && n++ < 3 { print }' $HMM_RESULTS/$1.tap
	[ "$2" = hmm_dmirror ] || rm -f /dev/hmm_dmirror*
	echo 0 > /proc/sys/vm/nr_hugepages
	echo "$thp_was" > $thp
	rmmod "$1" || fail "rmmod $1 after hmm-tests"
	verdicts $HMM_RESULTS/$1.tap > $HMM_RESULTS/$1.verdicts
	[ -s $HMM_RESULTS/$1.verdicts ] || fail "hmm-tests printed no results against $1.ko"
	expect_complete $1
}

# expect_complete MODULE: every case of the plan ("1..N", printed before
# the first case) has a verdict.  A run cut off by its limit has fewer,
# and the cases it never reached would otherwise count as not failed.
expect_complete() {
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' $HMM_RESULTS/$1.tap | head -n1)
	ran=$(wc -l < $HMM_RESULTS/$1.verdicts)
	[ -n "$plan" ] || fail "hmm-tests against $1.ko printed no plan (1..N)"
	[ "$ran" -eq "$plan" ] ||
		fail "hmm-tests against $1.ko ran $ran of its $plan cases (cut off at its limit?)"
}

# verdicts FILE: "name pass|fail|skip" per case.  A skipped case is "ok"
# in TAP; older harnesses say SKIP only on a "#      SKIP" line before it.
verdicts() {
	awk '/^#  RUN / { skipped = 0 }
	     /^# +SKIP/ { skipped = 1 }
	     /^not ok [0-9]+ / { print $4, "fail"; next }
	     /^ok [0-9]+ / { print $3, (skipped || $0 ~ /# SKIP/) ? "skip" : "pass" }' "$1"
}

# totals MODULE: one line of counts
totals() {
	awk -v m="$1" '{ c[$2]++ }
		END { printf "hmm-tests[%s]: pass:%d fail:%d skip:%d\n", m, c["pass"], c["fail"], c["skip"] }' \
		$HMM_RESULTS/$1.verdicts
}
