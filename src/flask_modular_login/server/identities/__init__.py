"""The identities a user logs in with: logging in through the configured providers, and
linking one more provider to an account or unlinking one (the providers themselves are in
:mod:`..platforms`)."""
