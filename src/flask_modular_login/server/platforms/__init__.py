"""Identity providers of the login service.

One thin module per OAuth preset (:mod:`.google`, :mod:`.github`,
:mod:`.facebook`), each a flask-dance blueprint factory plus a pure
``normalise(profile) -> Profile``; the generic OpenID Connect client
(:mod:`.oidc`); ``credentials.json`` loading (:mod:`.credentials`); and the
normalised identity every provider yields (:mod:`.profile`).
"""
