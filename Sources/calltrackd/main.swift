print("calltrackd: not yet")
