print("calltrackd-bench: not yet")
