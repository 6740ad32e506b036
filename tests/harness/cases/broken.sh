# timeout: 30
echo "this case is broken on purpose" >&2
exit 1
