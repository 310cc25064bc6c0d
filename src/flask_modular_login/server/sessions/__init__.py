"""Logging in and out, and the user's sessions: the login page, the login flow every
provider ends in, logout, the sessions page, and the public key set that verifies leases."""
