"""Client side: checking a request's lease without calling the login service."""
