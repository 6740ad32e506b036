# timeout: 900
# The reference: the kernel's own hmm-tests selftest, built from this
# kernel's source package, against the upstream test_hmm.ko of the same
# kernel.  Its counts are recorded; the dmirror case is held against it.
. /opt/dmirror/lib.sh
. /opt/dmirror/hmm-tests.sh

run_hmm_tests test_hmm hmm_dmirror
totals test_hmm
