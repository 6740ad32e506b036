# timeout: 1200
# Worst device-lock holds of the linked free lists (dmirror-list.ko,
# commit fb48724) and of the per-chunk bitmaps (dmirror-bitmap.ko, commit
# 86d0052), in one boot, alternating, with 18-stress's settings and seed.
. /opt/dmirror/lib.sh
for round in 1 2; do
	for m in dmirror-list dmirror-bitmap; do
		insmod $DM_MODULES/$m.ko chunk_pages=512 max_chunks=2 || fail "insmod $m"
		rm -f hold.txt
		dm_hold -d 0 -n 960 > hold.txt &
		hold=$!
		i=0
		until grep -q . hold.txt 2>/dev/null; do
			i=$((i + 1)); [ $i -lt 300 ] || fail "dm_hold never got going"
			sleep 0.1
		done
		trace_reset
		# dmirror:, where the event was before it got a system of its own
		if [ -d $DM_TRACEFS/events/dmirror_lock ]; then
			trace_enable dmirror_lock:dmirror_lock_hold
		else
			trace_enable dmirror:dmirror_lock_hold
		fi
		stress -s 1 -t 60 > stress.txt 2>&1
		rc=$?
		kill $hold
		wait $hold
		echo 0 > $DM_TRACEFS/tracing_on
		grep -o 'dmirror_lock_hold: dev=[0-9]* site=[a-z_]* hold_ns=[0-9]*' $DM_TRACEFS/trace |
			tr '=' ' ' | awk '{ w[$3 " " $5] = $7 } END { for (k in w) print k, w[k] }' | sort |
			while read -r d s ns; do echo "HOLD round=$round module=$m dev=$d site=$s ns=$ns"; done
		echo "STRESS round=$round module=$m rc=$rc $(grep -E 'ops (migrate_to_dev|monitor_reads) ' stress.txt | tr -s ' ' | tr '\n' ' ')"
		echo 1 > $DM_TRACEFS/tracing_on
		echo > $DM_TRACEFS/set_event
		rmmod dmirror || fail "rmmod after $m"
	done
done
