# timeout: 120
# hmm-tests cut off at its limit (HMM_TESTS_TIMEOUT seconds, long enough
# for a few cases and far too short for all) must fail the case, however
# few of the cases it reached failed.
. /opt/dmirror/lib.sh
. /opt/dmirror/hmm-tests.sh
HMM_TESTS_TIMEOUT=20
run_hmm_tests dmirror dmirror
totals dmirror
echo "a cut-off hmm-tests run went unnoticed"
