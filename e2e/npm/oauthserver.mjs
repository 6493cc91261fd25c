// oauthserver.mjs: an MCP server behind OAuth, with its own authorization
// server, built from the official TypeScript SDK's server auth code
// (mcpAuthRouter, requireBearerAuth) on express, for the browser OAuth test
// (e2e/oauth_test.go).
//
//   node e2e/npm/oauthserver.mjs [--port=0]
//
// Two origins on 127.0.0.1: the authorization server (AS) and the resource
// server (RS: /mcp, its protected resource metadata, and the test pages and
// dist/ under /, so that the page is on the MCP server's origin and the AS
// is another origin, reached with CORS as the SDK's router answers it).
// Once listening it prints `listening http://127.0.0.1:RS/mcp` and exits
// when stdin ends.
//
// The AS approves every authorization request at once (no login form) and
// grants the scopes asked for. Its access tokens expire when POST /_expire
// on the RS says so; refresh tokens work until then. The RS wants scope
// "mcp" for everything and "mcp admin" for the tool `admin`, which it
// refuses with 403 insufficient_scope otherwise. GET /_state on the RS
// returns what both servers saw.
import express from 'express';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/v4';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { mcpAuthRouter, mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const state = { authorizations: [], tokenGrants: [], mcp: [] };

// The AS's memory.
const clients = new Map();
const codes = new Map();
const accessTokens = new Map();
const refreshTokens = new Map();

const provider = {
  clientsStore: {
    getClient: (id) => clients.get(id),
    registerClient: (info) => {
      const full = { ...info, client_id: randomUUID(), client_id_issued_at: Math.floor(Date.now() / 1000) };
      clients.set(full.client_id, full);
      return full;
    },
  },
  async authorize(client, params, res) {
    state.authorizations.push({ scopes: params.scopes ?? [] });
    const code = randomUUID();
    codes.set(code, { client, params });
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    res.redirect(target.toString());
  },
  async challengeForAuthorizationCode(_client, code) {
    const c = codes.get(code);
    if (!c) throw new Error('invalid authorization code');
    return c.params.codeChallenge;
  },
  async exchangeAuthorizationCode(client, code) {
    const c = codes.get(code);
    if (!c || c.client.client_id !== client.client_id) throw new Error('invalid authorization code');
    codes.delete(code);
    state.tokenGrants.push('authorization_code');
    return issue(client.client_id, c.params.scopes ?? []);
  },
  async exchangeRefreshToken(client, refreshToken) {
    const r = refreshTokens.get(refreshToken);
    if (!r || r.clientId !== client.client_id) throw new Error('invalid refresh token');
    state.tokenGrants.push('refresh_token');
    return issue(client.client_id, r.scopes, refreshToken);
  },
  async verifyAccessToken(token) {
    const t = accessTokens.get(token);
    if (!t) throw new InvalidToken();
    return { token, clientId: t.clientId, scopes: t.scopes, expiresAt: t.expired ? Math.floor(Date.now() / 1000) - 1 : t.expiresAt };
  },
};

function issue(clientId, scopes, refreshToken = randomUUID()) {
  const token = randomUUID();
  accessTokens.set(token, { clientId, scopes, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  refreshTokens.set(refreshToken, { clientId, scopes });
  return { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: scopes.join(' '), refresh_token: refreshToken };
}

class InvalidToken extends Error {}

const listen = (app) => new Promise((resolve) => {
  const server = app.listen(0, '127.0.0.1', () => resolve(server));
});

// The AS first, on its own origin: its URL goes into the RS's metadata.
const asApp = express();
const asServer = await listen(asApp);
const asURL = new URL(`http://127.0.0.1:${asServer.address().port}/`);

const rsApp = express();
const rsServer = await listen(rsApp);
const rsOrigin = `http://127.0.0.1:${rsServer.address().port}`;
const mcpURL = new URL(`${rsOrigin}/mcp`);

asApp.use(mcpAuthRouter({ provider, issuerUrl: asURL, resourceServerUrl: mcpURL, scopesSupported: ['mcp'] }));
// requireBearerAuth turns an unknown token into 401 invalid_token.
const { InvalidTokenError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js');
const verifier = { verifyAccessToken: async (t) => {
  try {
    return await provider.verifyAccessToken(t);
  } catch {
    throw new InvalidTokenError('Unknown token');
  }
} };

const prm = getOAuthProtectedResourceMetadataUrl(mcpURL);
rsApp.use(mcpAuthMetadataRouter({
  oauthMetadata: { issuer: asURL.href, authorization_endpoint: new URL('/authorize', asURL).href, token_endpoint: new URL('/token', asURL).href,
    registration_endpoint: new URL('/register', asURL).href, response_types_supported: ['code'], code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'none'], grant_types_supported: ['authorization_code', 'refresh_token'] },
  resourceServerUrl: mcpURL,
  scopesSupported: ['mcp'],
}));
rsApp.use('/dist', express.static(path.join(here, '..', '..', 'dist'), { etag: false, maxAge: 0 }));
for (const page of ['oauth.html', 'oauth-flow.js']) {
  rsApp.get(`/${page}`, (_req, res) => res.sendFile(path.join(here, '..', 'testdata', page)));
}
rsApp.get('/callback', (_req, res) => res.sendFile(path.join(here, '..', 'testdata', 'oauth.html')));
rsApp.post('/_expire', (_req, res) => {
  for (const t of accessTokens.values()) t.expired = true;
  res.json({ ok: true });
});
rsApp.get('/_state', (_req, res) => res.json(state));

rsApp.use('/mcp', express.json(), (req, res, next) => {
  const entry = { method: req.method, rpc: req.body?.method, tool: req.body?.params?.name };
  state.mcp.push(entry);
  res.on('finish', () => { entry.status = res.statusCode; });
  next();
}, requireBearerAuth({ verifier, requiredScopes: [], resourceMetadataUrl: prm }), (req, res, next) => {
  if (req.body?.method === 'tools/call' && req.body.params?.name === 'admin' && !req.auth.scopes.includes('admin')) {
    res.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="mcp admin", resource_metadata="${prm}", error_description="admin needs the admin scope"`);
    res.status(403).json({ error: 'insufficient_scope' });
    return;
  }
  next();
});
rsApp.post('/mcp', async (req, res) => {
  // Stateless: a server and a transport per request.
  const server = new McpServer({ name: 'esshim-oauth-test', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('admin', { inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'admin ok' }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
rsApp.all('/mcp', (_req, res) => res.status(405).set('Allow', 'POST').end());

console.log(`listening ${mcpURL.href}`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
