# timeout: 1500
# Worst device-lock holds at the default settings (16 chunks of 16384
# pages) with SCALE_PAGES (default 32768) free pages, linked lists
# (dmirror-list.ko) against bitmaps (dmirror-bitmap.ko), alternating in
# one boot: free_list reads, a huge allocation after order-0 use (the old
# merge), RELEASE's shrink.
. /opt/dmirror/lib.sh
pages=${SCALE_PAGES:-32768}
# The chunk events' formats before the event class (dmirror-base.ko) and
# after it, for the host to compare.
for m in dmirror-base dmirror-list dmirror-bitmap; do
	insmod $DM_MODULES/$m.ko || fail "insmod $m"
	for e in dmirror_chunk_add dmirror_chunk_remove; do
		grep -v '^ID:' $DM_TRACEFS/events/dmirror/$e/format | sed "s/^/FORMAT $m $e: /"
	done
	rmmod dmirror
done
for round in 1 2; do
	for m in dmirror-list dmirror-bitmap; do
		insmod $DM_MODULES/$m.ko || fail "insmod $m"
		trace_reset
		# dmirror:, where the event was before it got a system of its own
		if [ -d $DM_TRACEFS/events/dmirror_lock ]; then
			trace_enable dmirror_lock:dmirror_lock_hold
		else
			trace_enable dmirror:dmirror_lock_hold
		fi
		rm -f hold.txt
		dm_hold -d 0 -n $pages > hold.txt &
		hold=$!
		i=0
		until grep -q . hold.txt 2>/dev/null; do
			i=$((i + 1)); [ $i -lt 3000 ] || fail "dm_hold never got going"
			sleep 0.1
		done
		echo "SCALE round=$round module=$m $(cat hold.txt) $(dm_stat dev0.chunks) chunks"
		kill $hold
		wait $hold
		for i in 1 2 3; do cat $DM_DEBUGFS/free_list > /dev/null; done
		workload -s 1024 -q || echo "workload failed"
		echo "SCALE round=$round module=$m huge_to_dev=$(dm_stat dev0.huge_to_dev)"
		dm_ioctl release > release.txt 2>&1 || echo "dm_ioctl release: $(tail -n1 release.txt)"
		echo "SCALE round=$round module=$m chunks after release=$(dm_stat dev0.chunks)"
		echo 0 > $DM_TRACEFS/tracing_on
		grep -o 'dmirror_lock_hold: dev=[0-9]* site=[a-z_]* hold_ns=[0-9]*' $DM_TRACEFS/trace |
			tr '=' ' ' | awk '{ w[$3 " " $5] = $7 } END { for (k in w) print k, w[k] }' | sort |
			while read -r d s ns; do echo "HOLD round=$round module=$m dev=$d site=$s ns=$ns"; done
		echo 1 > $DM_TRACEFS/tracing_on
		echo > $DM_TRACEFS/set_event
		rmmod dmirror || fail "rmmod after $m"
	done
done
