# timeout: 5
# Overruns its limit while its shell waits for a program it started: the
# harness must kill the case and the program with it.
sleep 4242
