"""Client side: checking a request's lease without calling the login service, and its
access groups (cached in the process)."""
