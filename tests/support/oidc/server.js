// A real OpenID Connect provider for the test suite: oidc-provider on 127.0.0.1.
//
// Usage: node server.js [PORT]      (PORT also from OIDC_PORT; 0 or absent = any free port)
// Environment: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (space separated).
//
// Once listening it prints one JSON line on stdout: {"issuer": "http://127.0.0.1:PORT"}.
// Its built-in development interactions serve a login form (any login, any
// password; the login becomes the account's `sub`) and a consent form.
// Keys are made at start-up and live only in memory.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`server.js: set ${name}`);
    process.exit(2);
  }
  return value;
}

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };
}

function account(login) {
  return {
    accountId: login,
    async claims() {
      return {
        sub: login,
        name: `Test ${login}`,
        picture: `https://example.com/avatars/${encodeURIComponent(login)}.png`,
      };
    },
  };
}

function configuration() {
  return {
    clients: [{
      client_id: required('OIDC_CLIENT_ID'),
      client_secret: required('OIDC_CLIENT_SECRET'),
      redirect_uris: required('OIDC_REDIRECT_URIS').split(' ').filter(Boolean),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: { openid: ['sub'], profile: ['name', 'picture'] },
    scopes: ['openid', 'profile'],
    findAccount: async (ctx, sub) => account(sub),
    pkce: { required: () => true },
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: { devInteractions: { enabled: true } },
  };
}

const port = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
