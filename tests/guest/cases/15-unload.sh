# timeout: 300
# rmmod is refused while a process holds the device open, and while it
# holds device pages even with the file closed: every device page in use
# pins the module.  Once the process exits everything is accounted for and
# the module unloads.
. /opt/dmirror/lib.sh

load_dmirror chunk_pages=512 max_chunks=1
pid=
# Never leave a holder behind: the next case needs the module unloaded.
trap '[ -n "$pid" ] && kill $pid 2>/dev/null' EXIT
refcnt() { cat /sys/module/dmirror/refcnt; }
expect_eq "$(refcnt)" 0 "refcount, idle"

# wait_held FILE: until dm_hold says it holds its pages
wait_held() {
	i=0
	until grep -q '^held\|^failed' "$1"; do
		i=$((i + 1)); [ $i -lt 200 ] || fail "dm_hold never got going"
		sleep 0.1
	done
	grep -q '^held' "$1" || fail "dm_hold: $(cat $1)"
}

note "open file + 8 device pages"
dm_hold -n 8 > a.txt &
pid=$!
wait_held a.txt
# An open file holds two references (the cdev and its file operations).
expect_eq "$(refcnt)" 10 "refcount: one open file, 8 device pages"
rmmod dmirror 2>/dev/null && fail "rmmod succeeded with the device open"
kill $pid; wait $pid; pid=
expect_eq "$(refcnt)" 0 "refcount after the process exited"

note "file closed, 8 device pages still mapped"
dm_hold -n 8 -c > b.txt &
pid=$!
wait_held b.txt
expect_eq "$(refcnt)" 8 "refcount: 8 device pages, no file"
expect_eq "$(dm_stat dev0.pages_in_use)" 8 "pages_in_use"
expect_eq "$(dm_stat dev0.shadow_live)" 8 "shadow_live"
rmmod dmirror 2>/dev/null && fail "rmmod succeeded with device pages mapped"
[ -c /dev/dmirror0 ] || fail "refused rmmod still removed /dev/dmirror0"
kill $pid; wait $pid; pid=

expect_eq "$(refcnt)" 0 "refcount after the process exited"
expect_eq "$(dm_stat total.pages_in_use)" 0 "pages_in_use before unload"
expect_eq "$(dm_stat total.shadow_live)" 0 "shadow_live before unload"
expect_eq "$(dm_stat dev0.shadow_allocated)" "$(dm_stat dev0.shadow_freed)" "every shadow allocated was freed"
expect_eq "$(awk '$1 == "dev0.free" { print $2 }' $DM_DEBUGFS/free_list)" "$(dm_stat dev0.pages_total)" "every device page is on the free list"
unload_dmirror
echo "unload OK"
