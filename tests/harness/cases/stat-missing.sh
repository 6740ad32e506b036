# timeout: 60
# Two keys the stats file does not have read as the same (empty) value:
# the case must fail all the same, although dm_stat runs in a subshell.
. /opt/dmirror/lib.sh
load_dmirror
expect_eq "$(dm_stat total.no_such_key)" "$(dm_stat dev0.no_such_key)" "two missing keys"
echo "a missing stats key went unnoticed"
