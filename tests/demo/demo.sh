# timeout: 600
# The main job: record and report a clean migration cycle with dmirror,
# then a fault loop (owner_mismatch) and a shadow-page leak (leak_shadow).
# Runs in the test guest (make demo) or, with DM_LIB and DM_MODULES set, on
# a host whose kernel can load dmirror.  Exits non-zero if the analyzer
# does not find exactly what each step injected.  Each recording and its
# reports (NAME.dat, NAME.txt, NAME.json, NAME.html, a picture of it,
# and NAME.perfetto.json, a timeline for ui.perfetto.dev) are handed back
# to the host.
. "${DM_LIB:-/opt/dmirror/lib.sh}"
[ -n "${DM_MODULES_OVERRIDE:-}" ] && DM_MODULES=$DM_MODULES_OVERRIDE

cd "$(mktemp -d)" || exit 1
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

load_dmirror
knob() { echo "$2" > $DM_DEBUGFS/$1 || fail "cannot set $1=$2"; }

step "1/3  A clean migration cycle: 16 pages to the device and back by CPU fault"
show analyzer record -o clean.dat -- workload -s 16 || fail "recording the clean cycle failed"
printf '$ analyzer report clean.dat\n'
analyzer report clean.dat > clean.txt
rc=$?
cat clean.txt
analyzer report --json --perfetto clean.perfetto.json --html clean.html clean.dat > clean.json
hand_back clean.dat clean.txt clean.json clean.perfetto.json clean.html
[ $rc -eq 0 ] || fail "the clean cycle should report no problem (exit $rc)"

step "2/3  A fault loop: the fault path passes the wrong pgmap_owner"
knob fault_loop_limit 500
knob owner_mismatch 1
show analyzer record -o loop.dat -- workload -s 1
echo "(workload exited $?: the fault-loop guard killed it with SIGBUS)"
knob owner_mismatch 0
printf '$ analyzer report loop.dat\n'
analyzer report loop.dat > loop.txt
rc=$?
cat loop.txt
analyzer report --json --perfetto loop.perfetto.json --html loop.html loop.dat > loop.json
hand_back loop.dat loop.txt loop.json loop.perfetto.json loop.html
[ $rc -eq 1 ] || fail "the fault loop should be reported (exit $rc, expected 1)"

step "3/3  Leaked shadow pages: page_free forgets the shadow page"
knob leak_shadow 1
show analyzer record -o leak.dat -- workload -s 8
knob leak_shadow 0
printf '$ analyzer report leak.dat\n'
analyzer report leak.dat > leak.txt
rc=$?
cat leak.txt
analyzer report --json --perfetto leak.perfetto.json --html leak.html leak.dat > leak.json
hand_back leak.dat leak.txt leak.json leak.perfetto.json leak.html
[ $rc -eq 1 ] || fail "the leak should be reported (exit $rc, expected 1)"
show cat $DM_DEBUGFS/stats
