# timeout: 600
# Never finishes: the guest's hard limit must kill it.
sleep 100000
