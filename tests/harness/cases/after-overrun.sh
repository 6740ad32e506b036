# timeout: 30
# Runs after overruns.sh: nothing that case started may still be running.
for c in /proc/[0-9]*/cmdline; do
	if [ "$(tr '\0' ' ' < "$c" 2>/dev/null)" = "sleep 4242 " ]; then
		c=${c#/proc/}
		echo "a program of the killed case outlived it: pid ${c%/cmdline}" >&2
		exit 1
	fi
done
echo "nothing of the killed case is left"
