"""The channel: the login service and its remote client apps over websockets.

The protocol itself is sans-I/O in :mod:`flask_modular_login.core.protocol`
(specified in docs/protocol.md); this package is the I/O around it:

* :mod:`.server`: :class:`~.server.ChannelServer` and ``run_channel`` (the
  ``channel`` command), on the service's machine;
* :mod:`.client`: :class:`~.client.ChannelClient`, what a remote client app
  runs (it holds its client key, never a key that can mint a lease).

The server side is built from :mod:`.peer` (one connection), :mod:`.hub` (the
event log followed and fanned out), :mod:`.rpc` (what each call does) and
:mod:`.oracle`; the client side from :mod:`.address`. Importing this package
imports neither side: client apps never load the service's modules.
"""
