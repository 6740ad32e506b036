# timeout: 120
# The debugfs knobs take exactly their documented values: owner_mismatch,
# leak_shadow and bounce_copy 0 or 1, fault_loop_limit 0..2147483647.
# Anything else, an empty write included, is EINVAL and leaves the value
# alone; a buffer the kernel cannot read is EFAULT.
. /opt/dmirror/lib.sh

load_dmirror
# try FILE STRING EXPECTED: one write(2) of exactly STRING
try() {
	got=$(dm_ioctl write "$1" "$2")
	expect_eq "$got" "$3" "write '$2' to $(basename $1)"
}
for k in owner_mismatch leak_shadow bounce_copy; do
	f=$DM_DEBUGFS/$k
	for bad in "" "2" "-1" "abc" "1x" " 1" "0x1" "1 1" \
		   "99999999999999999999" "4294967297" "12345678901234567"; do
		try $f "$bad" EINVAL
	done
	expect_eq "$(cat $f)" 0 "$k after the bad writes"
	try $f 1 ok
	expect_eq "$(cat $f)" 1 "$k after writing 1"
	try $f "0
" ok
	expect_eq "$(cat $f)" 0 "$k after writing 0 and a newline"
done
f=$DM_DEBUGFS/fault_loop_limit
for bad in "" "-1" "abc" "2147483648" "4294967296" "99999999999999999999" "10 "; do
	try $f "$bad" EINVAL
done
expect_eq "$(cat $f)" 10000 "fault_loop_limit after the bad writes"
expect_eq "$(dm_ioctl write-unmapped $f)" EFAULT "write from an unmapped buffer to fault_loop_limit"
expect_eq "$(cat $f)" 10000 "fault_loop_limit after the write from an unmapped buffer"
for good in 0 1 5 2147483647 10000; do
	try $f "$good" ok
	expect_eq "$(cat $f)" "$good" "fault_loop_limit after writing $good"
done
# Knobs and the module parameter are root's alone.
expect_eq "$(stat -c %a /sys/module/dmirror/parameters/fault_loop_limit)" 444 "module parameter mode"
unload_dmirror
for bad in ndevices=0 ndevices=65 chunk_pages=100 chunk_pages=0 max_chunks=0 fault_loop_limit=2147483648; do
	insmod $DM_MODULES/dmirror.ko $bad 2>/dev/null && fail "insmod with $bad succeeded"
done
echo "knobs OK"
