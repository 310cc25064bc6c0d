"""Identity providers of the login service.

One thin module per OAuth preset (:mod:`.google`, :mod:`.github`,
:mod:`.facebook`), each a flask-dance blueprint factory, a profile URL and a
pure ``normalise(profile) -> Profile``, run through the generic OAuth 2 flow
of :mod:`.oauth2` (the blueprint is read, never registered); the generic
OpenID Connect client (the :mod:`.oidc` package); the error shapes, PKCE and
callback checks both flows share (:mod:`.authorization_code`);
``credentials.json`` loading (:mod:`.credentials`); the configured providers
by name (:mod:`.registry`); the ``test`` provider (:mod:`.test`); and the
normalised identity every provider yields (:mod:`.profile`). Nothing here imports Flask's request
context except :mod:`.test`.
"""
