# timeout: 300
# Argument validation of every ioctl (bad ranges, pointers, commands), and
# the commands hmm-tests cannot check on every kernel: EXCLUSIVE on 4 KiB
# pages, SNAPSHOT codes, RELEASE, READ_UNLOCKED; that activity elsewhere in
# the process does not make READ or SNAPSHOT retry; and that the longest
# call of each command ends within 2 s of SIGKILL.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=2
for t in validate exclusive snapshot unlocked cow busy; do
	note "dm_ioctl $t"
	dm_ioctl $t || fail "dm_ioctl $t"
done

# A page on device 0 is invisible to device 1 (SNAPSHOT NONE, MIGRATE_TO_DEV
# ENOENT) until it comes back; WRITE to read-only device pages ends.
for t in other-device ro-write; do
	note "dm_repro_enoent $t"
	dm_repro_enoent $t || fail "dm_repro_enoent $t"
done

note "dm_ioctl release"
trace_reset
trace_enable dmirror:dmirror_evict dmirror:dmirror_chunk_remove
dm_ioctl release || fail "dm_ioctl release"
cat $DM_TRACEFS/trace | grep dmirror_
expect_eq "$(dm_stat dev0.pages_evicted)" 32 "pages_evicted"
expect_eq "$(grep -c 'dmirror_evict: dev=0 .* collected=32 migrated=32$' $DM_TRACEFS/trace)" 1 "evict event"
expect_eq "$(dm_stat dev0.chunks)" 0 "chunks after RELEASE (all idle, all removed)"
expect_eq "$(dm_stat dev0.pages_total)" 0 "pages_total after RELEASE"
expect_eq "$(grep -c 'dmirror_chunk_remove: dev=0 ' $DM_TRACEFS/trace)" 1 "chunk_remove event"
expect_eq "$(dm_stat total.shadow_live)" 0 "shadow_live"
workload -s 8 -q > /dev/null || fail "workload after RELEASE (the device grows again)"
expect_eq "$(dm_stat dev0.chunks)" 1 "chunks after growing again"

note "dm_ioctl killable"
dm_ioctl killable || fail "dm_ioctl killable"
unload_dmirror
echo "ioctls OK"
