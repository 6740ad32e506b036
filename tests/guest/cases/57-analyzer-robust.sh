# timeout: 600
# analyzer record where the world is unkind: started with SIGCHLD ignored
# (the kernel then reaps CMD by itself: record must still see it end), on
# a full disk (one line, exit 2, no file, no instance), and with debugfs
# mounted somewhere else than /sys/kernel/debug (the driver's stats are
# still found: the leak count is cross-checked); and under sudo, whose
# user the trace then belongs to.
. /opt/dmirror/lib.sh
jstr() { grep -o "\"$1\": *\"[^\"]*\"" "$2" | head -n1 | sed 's/.*: *"\(.*\)"/\1/'; }

load_dmirror
note "SIGCHLD ignored by the parent"
timeout 120 sigign CHLD analyzer record -o chld.dat -- workload -q -s 4 2> chld.err
rc=$?
cat chld.err
expect_eq "$rc" 0 "record with SIGCHLD ignored (124: it hung)"
analyzer report chld.dat > /dev/null || fail "the report of that recording"
timeout 60 sigign CHLD analyzer report chld.dat > /dev/null
expect_eq "$?" 0 "report with SIGCHLD ignored"

note "a full disk"
mkdir -p small
mount -t tmpfs -o size=64k tmpfs small || fail "cannot mount a small tmpfs"
trap 'umount small 2>/dev/null' EXIT
analyzer record -o small/full.dat -- workload -q -s 256 -i 4 2> full.err
rc=$?
cat full.err
expect_eq "$rc" 2 "record on a full disk"
# the source line was printed when recording began; then one error line
expect_eq "$(grep -vc '^analyzer: record: source:' full.err)" 1 "error lines on stderr"
grep -q 'No space left on device' full.err || fail "the line does not say the disk is full"
left=$(ls -A small)
[ -z "$left" ] && : || fail "left on the full disk: $left"
ls $DM_TRACEFS/instances | grep -q '^dmirror-analyzer-' && fail "our instance was left behind"
umount small

note "debugfs mounted elsewhere"
umount /sys/kernel/debug || fail "cannot unmount debugfs"
mkdir -p dbg
mount -t debugfs debugfs dbg || fail "cannot mount debugfs elsewhere"
analyzer record -o dbg.dat -- workload -q -s 16 2> dbg.err
rc=$?
cat dbg.err
umount dbg
mount -t debugfs debugfs /sys/kernel/debug || fail "cannot mount debugfs back"
expect_eq "$rc" 0 "record with debugfs elsewhere"
analyzer report --json dbg.dat > dbg.json || fail "the report of that recording"
grep -q '"agree": true' dbg.json || fail "the driver's stats were not found under the other debugfs mount"
expect_eq "$(jstr stats_key dbg.json)" total.shadow_live "the stats counter cross-checked"
grep -q '^/sys/kernel/debug ' /proc/mounts 2>/dev/null || grep -q ' /sys/kernel/debug debugfs' /proc/mounts ||
	fail "debugfs is not back at /sys/kernel/debug"
note "under sudo: the trace is the user's"
SUDO_UID=1234 SUDO_GID=4321 analyzer record -o own.dat -- workload -q -s 4 2> own.err ||
	{ cat own.err; fail "record with SUDO_UID set"; }
expect_eq "$(stat -c %u:%g own.dat)" 1234:4321 "the owner of the trace written under sudo"
analyzer record -o root.dat -- true 2> /dev/null
expect_eq "$(stat -c %u:%g root.dat)" 0:0 "the owner of the trace written by root itself"
unload_dmirror
echo "SIGCHLD ignored, a full disk, debugfs elsewhere, sudo's user: OK"
