// The OAuth flow of a web MCP client, written as the SDK documents it,
// with esshim's transport: an OAuthClientProvider that keeps its state in
// sessionStorage (it must survive the redirect), redirectToAuthorization
// that navigates the page, and a callback page that calls finishAuth(code)
// and connects again.
const KEY = 'esshim-oauth-test';
const load = () => JSON.parse(sessionStorage.getItem(KEY) || '{}');
const save = (patch) => sessionStorage.setItem(KEY, JSON.stringify({ ...load(), ...patch }));

export class SessionProvider {
  constructor() {
    // When set, the redirect runs in a hidden iframe instead, after gate
    // resolves, and its code lands in this.code (the restart test).
    this.frame = undefined;
  }
  get redirectUrl() { return `${location.origin}/callback`; }
  get clientMetadata() { return { client_name: 'esshim-oauth-test', redirect_uris: [this.redirectUrl], token_endpoint_auth_method: 'none' }; }
  clientInformation() { return load().client; }
  saveClientInformation(client) { save({ client }); }
  tokens() { return load().tokens; }
  saveTokens(tokens) { save({ tokens, saved: (load().saved ?? 0) + 1 }); }
  saveCodeVerifier(verifier) { save({ verifier }); }
  codeVerifier() { return load().verifier; }
  // SDK v2 binds the callback leg to the authorization server it discovered.
  saveDiscoveryState(discovery) { save({ discovery }); }
  discoveryState() { return load().discovery; }
  async redirectToAuthorization(url) {
    save({ redirects: (load().redirects ?? 0) + 1 });
    if (!this.frame) {
      location.assign(url);
      return;
    }
    this.frame.redirecting = true;
    await this.frame.gate;
    this.frame.code = await new Promise((resolve, reject) => {
      const iframe = document.createElement('iframe');
      iframe.style.display = 'none';
      iframe.onload = () => {
        try {
          const u = new URL(iframe.contentWindow.location.href);
          if (u.pathname !== '/callback') return;
          iframe.remove();
          resolve(u.searchParams.get('code'));
        } catch { /* still on the authorization server */ }
      };
      iframe.onerror = reject;
      iframe.src = url.href;
      document.body.append(iframe);
    });
  }
}

export const provider = new SessionProvider();
const mcpURL = () => new URL('/mcp', location.origin);
export const newTransport = () => new globalThis.shim.StreamableHTTPClientTransport(mcpURL(), { authProvider: provider, sdkAuth: globalThis.sdk.sdkAuth });
const newClient = () => new globalThis.sdk.Client({ name: 'esshim-oauth-test', version: '1.0.0' });
const text = (r) => r.content?.[0]?.text;

// start connects with no tokens: the 401 runs the SDK's flow, which
// navigates the page to the authorization server.
export function start() {
  sessionStorage.removeItem(KEY);
  const client = newClient();
  client.connect(newTransport()).then(
    () => save({ startResult: 'connected' }),
    (err) => save({ startResult: `${err?.name}` }));
}

// callback runs on the redirect URI: finishAuth(code), a new transport,
// connect, call a tool.
export async function callback() {
  const code = new URL(location.href).searchParams.get('code');
  const transport = newTransport();
  await transport.finishAuth(code);
  const client = newClient();
  await client.connect(transport);
  globalThis.client = client;
  globalThis.transport = transport;
  return { echo: text(await client.callTool({ name: 'echo', arguments: { text: 'after redirect' } })), state: load() };
}

// refresh expires the access token on the server, then calls a tool: the
// 401 refreshes the token with no user action and the call succeeds.
export async function refresh() {
  const before = load().tokens.access_token;
  await fetch('/_expire', { method: 'POST' });
  const echo = text(await globalThis.client.callTool({ name: 'echo', arguments: { text: 'after refresh' } }));
  return { echo, changed: load().tokens.access_token !== before, redirects: load().redirects };
}

// stepUpRestart calls the admin tool, which needs more scope: the 403
// steps up, which needs the user (a redirect). While the redirect is under
// way the application closes the client; the flow ends after that. Then
// finishAuth, connect(newTransport) and the call again.
export async function stepUpRestart() {
  const frame = { redirecting: false };
  frame.gate = new Promise((resolve) => { frame.release = resolve; });
  provider.frame = frame;
  const client = globalThis.client;
  const old = globalThis.transport;
  const call = client.callTool({ name: 'admin', arguments: {} }).then(() => 'resolved', (err) => `${err?.name}`);
  const deadline = Date.now() + 20000;
  while (!frame.redirecting) {
    if (Date.now() > deadline) throw new Error('the step-up never redirected');
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.close();
  frame.release();
  const firstCall = await call;
  while (frame.code === undefined) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300)); // room for a ghost request, if one were coming
  const oldSnapshot = old.snapshot();
  provider.frame = undefined;
  const transport = newTransport();
  await transport.finishAuth(frame.code);
  await client.connect(transport);
  const admin = text(await client.callTool({ name: 'admin', arguments: {} }));
  await client.close();
  return { firstCall, admin, oldInflight: oldSnapshot.inflight.length, oldGoroutines: oldSnapshot.transportGoroutines, scope: load().tokens.scope };
}
