# timeout: 60
# dm_stat of keys the stats file has: passes, in the run where
# stat-missing must fail.
. /opt/dmirror/lib.sh
load_dmirror
expect_eq "$(dm_stat config.devices)" "$(dm_stat config.devices)" "config.devices"
expect_eq "$(dm_stat total.chunks)" 0 "total.chunks"
unload_dmirror
echo "dm_stat of present keys passed"
