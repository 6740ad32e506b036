# Helpers for the host-side checks of guest cases (CASE.host, run by
# tests/guest/run in what the case handed back): . "$DM_TOP/tests/guest/host.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

analyzer=$DM_TOP/build/bin/analyzer
[ -x "$analyzer" ] || fail "no $analyzer: build it with make analyzer"

# same_reports TRACE STATUS TEXT JSON [TC]: the guest's recording, read
# here: analyzer report exits STATUS and prints what it printed in the
# guest (TEXT, and JSON with --json), and trace-cmd report prints what it
# printed there (TC, made with -N: the guest has no trace-cmd plugins).
same_reports() {
	local trace=$1 want=$2 text=$3 json=$4 tc=${5:-} rc
	[ -s "$trace" ] || fail "the guest handed back no $trace"
	"$analyzer" report "$trace" > "host-$text"
	rc=$?
	[ "$rc" = "$want" ] || fail "analyzer report $trace on the host exited $rc, expected $want"
	diff -u "$text" "host-$text" || fail "analyzer report $trace: the host's differs from the guest's"
	"$analyzer" report --json "$trace" > "host-$json"
	diff -u "$json" "host-$json" || fail "analyzer report --json $trace: the host's differs from the guest's"
	echo "$trace on the host: analyzer report, text and JSON, as in the guest (exit $rc)"
	# our page reader against libtracecmd's, on the kernel's own pages
	grep -q '^  "reader": "pages",$' "host-$json" ||
		fail "analyzer report $trace: not read by its page reader ($(grep '"reader"' "host-$json"))"
	DMIRROR_READER=libtracecmd "$analyzer" report --json "$trace" > "libtracecmd-$json"
	grep -q '^  "reader": "libtracecmd",$' "libtracecmd-$json" ||
		fail "analyzer report $trace: DMIRROR_READER=libtracecmd did not read it with libtracecmd"
	diff -u <(grep -v '^  "reader": ' "host-$json") <(grep -v '^  "reader": ' "libtracecmd-$json") ||
		fail "analyzer report --json $trace: the page reader and libtracecmd disagree"
	echo "$trace on the host: the page reader and libtracecmd give the same report"
	[ -n "$tc" ] || return 0
	trace-cmd report -N -i "$trace" > "host-$tc" 2>&1 || fail "trace-cmd report $trace on the host failed"
	diff -u "$tc" "host-$tc" > "$tc.diff" ||
		{ head -n 40 "$tc.diff"; fail "trace-cmd report $trace: the host's differs from the guest's"; }
	echo "$trace on the host: trace-cmd report as in the guest ($(wc -l < "host-$tc") lines)"
}
