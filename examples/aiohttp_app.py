"""The original README's aiohttp middleware, as written: any framework, three hooks.

Run the login service first (``sh server.sh debug``), then from the repository
root, or from anywhere when the package is installed from this clone (``pip install
-e``): ``run/`` is found; or set ``LOGIN_RUN_DIR``::

    .venv/bin/python examples/aiohttp_app.py       # http://localhost:8080/

A request with a valid ``login`` cookie gets ``Hello, {...the user...}``; without
one, ``Hello, None``. A renewed lease is set on the response by the middleware.
"""

import os

from aiohttp import web

from flask_modular_login import LocalLoginInterface


class LoginBuilder(LocalLoginInterface):
    def remote_addr(self, request):
        return request.remote

    def get_cookie(self, request):
        return request.cookies.get('login')

    def set_cookie(self, value, request):
        request["login"] = value


login = LoginBuilder()


@web.middleware
async def process_request(request, handler):
    request['user'] = await login(request)
    response = await handler(request)
    if 'login' in request:
        response.set_cookie('login', request['login'])
    return response


app = web.Application(middlewares=[process_request])


async def handler(request):
    return web.Response(text='Hello, ' + str(request["user"]))


app.router.add_get('/', handler)

if __name__ == '__main__':
    web.run_app(app, port=int(os.environ.get("PORT", "8080")))
