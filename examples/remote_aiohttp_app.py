"""An aiohttp app on ANOTHER host: the original README's middleware over the channel.

The same three hooks as ``examples/aiohttp_app.py``, on ``RemoteLoginInterface``
(settings as in ``examples/remote_client_app.py``; ``PORT`` default 8082)::

    LOGIN_CHANNEL_CREDENTIAL=aio-app.... .venv/bin/python examples/remote_aiohttp_app.py

Unlike the local interface, building a ``RemoteLoginInterface`` fetches the service's
public keys and starts the channel connection, so this app builds it when it starts
(``cleanup_ctx``) and closes it when it stops: importing this file touches no network.
"""

import os

from aiohttp import web

from flask_modular_login import RemoteLoginInterface


class LoginBuilder(RemoteLoginInterface):
    def remote_addr(self, request):
        return request.remote

    def get_cookie(self, request):
        return request.cookies.get('login')

    def set_cookie(self, value, request):
        request["login"] = value


LOGIN = web.AppKey("login", LoginBuilder)


async def connect_login(app):
    """Connect to the login service when the app starts; disconnect when it stops."""
    app[LOGIN] = LoginBuilder(
        base_url=os.environ.get("LOGIN_SERVICE_URL", "http://localhost:8000"),
        uri=os.environ.get("LOGIN_CHANNEL_URI", "ws://localhost:8001"),
        credential=os.environ["LOGIN_CHANNEL_CREDENTIAL"],
    )
    yield
    app[LOGIN].close()


@web.middleware
async def process_request(request, handler):
    request['user'] = await request.app[LOGIN](request)
    response = await handler(request)
    if 'login' in request:
        response.set_cookie('login', request['login'])
    return response


app = web.Application(middlewares=[process_request])
app.cleanup_ctx.append(connect_login)


async def handler(request):
    return web.Response(text='Hello, ' + str(request["user"]))


app.router.add_get('/', handler)

if __name__ == '__main__':
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8082")))
