# timeout: 1800
# The kernel's own hmm-tests against dmirror.ko, held case by case against
# the upstream test_hmm.ko in the same guest: every case that passes
# against the reference must pass against dmirror.  Device-coherent cases
# skip on both (dmirror's devices are all device-private).
. /opt/dmirror/lib.sh
. /opt/dmirror/hmm-tests.sh

if [ "$DM_FLAVOUR" = debug ]; then
	# No test_hmm.ko here (20-hmm-tests-upstream says why): every case
	# must pass or skip but those that fail against it on this series.
	run_hmm_tests dmirror dmirror
	totals dmirror
	bad=0
	while read -r name verdict; do
		[ "$verdict" = fail ] || continue
		if awk -v s="$DM_SERIES" -v fl="$DM_FLAVOUR" -v n="$name" \
			'($1 == s || $1 == s "/" fl) && $2 == n { f = 1 } END { exit !f }' \
			/opt/dmirror/hmm-tests-upstream-failures; then
			echo "$name: fails, as against test_hmm.ko (hmm-tests-upstream-failures)"
		else
			echo "$name: FAILS against dmirror.ko"
			bad=$((bad + 1))
		fi
	done < $HMM_RESULTS/dmirror.verdicts
	[ "$bad" -eq 0 ] || fail "$bad hmm-tests case(s) fail against dmirror.ko on the debug kernel"
	exit 0
fi
[ -f $HMM_RESULTS/test_hmm.verdicts ] || run_hmm_tests test_hmm hmm_dmirror
run_hmm_tests dmirror dmirror

echo
printf '%-56s %-9s %s\n' "hmm-tests case" "test_hmm" "dmirror"
regressions=0 gaps=0
while read -r name ref; do
	ours=$(awk -v n="$name" '$1 == n { print $2 }' $HMM_RESULTS/dmirror.verdicts)
	mark=
	if [ "$ref" = pass ] && [ "$ours" != pass ]; then
		gap=$(awk -v s="$DM_SERIES" -v n="$name" '$1 == s && $2 == n { $1 = $2 = ""; print substr($0, 3) }' \
			/opt/dmirror/hmm-tests-known-gaps)
		if [ -n "$gap" ]; then
			mark="  <-- KNOWN GAP: $gap"
			gaps=$((gaps + 1))
		else
			mark="  <-- regression"
			regressions=$((regressions + 1))
		fi
	fi
	printf '%-56s %-9s %s%s\n' "$name" "$ref" "${ours:-missing}" "$mark"
done < $HMM_RESULTS/test_hmm.verdicts
echo
totals test_hmm
totals dmirror
[ "$gaps" -eq 0 ] || echo "KNOWN GAPS: $gaps case(s) listed in tests/guest/hmm-tests-known-gaps"
[ "$regressions" -eq 0 ] || fail "$regressions hmm-tests case(s) pass against test_hmm.ko but not against dmirror.ko"
