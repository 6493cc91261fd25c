// The OAuth client of the conformance scenarios, as a web application
// writes it with the SDK: an OAuthClientProvider, the SDK's Client, and on
// UnauthorizedError the redirect, finishAuth(code) and a new connect. The
// same code runs over the SDK's own transport (the control) and over
// esshim's, which gets one option more: sdkAuth, the SDK's auth module.

// CIMD: the client id the scenarios offer when the server supports it
// (the conformance suite's own client uses this URL).
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

// A provider that keeps everything in memory. Its redirect runs in a
// hidden iframe, a real navigation: the authorization endpoint redirects to
// the callback page on this origin, whose URL carries the code.
export class MemoryProvider {
  constructor(redirectUrl, context = {}, log = () => {}) {
    this._redirectUrl = redirectUrl;
    this._log = log;
    if (context.client_id) {
      this._clientInformation = { client_id: context.client_id };
      if (context.client_secret) this._clientInformation.client_secret = context.client_secret;
    }
    this.pendingCode = undefined;
    this.redirects = 0;
  }
  get redirectUrl() { return this._redirectUrl; }
  get clientMetadata() {
    return { client_name: 'esshim-conformance-client', redirect_uris: [this._redirectUrl] };
  }
  get clientMetadataUrl() { return CLIENT_METADATA_URL; }
  clientInformation() { return this._clientInformation; }
  saveClientInformation(info) { this._clientInformation = info; }
  tokens() { return this._tokens; }
  saveTokens(tokens) { this._tokens = tokens; }
  saveCodeVerifier(v) { this._codeVerifier = v; }
  codeVerifier() {
    if (!this._codeVerifier) throw new Error('No code verifier saved');
    return this._codeVerifier;
  }
  invalidateCredentials(scope) {
    this._tokens = undefined;
    if (scope === 'all') {
      this._clientInformation = undefined;
      this._codeVerifier = undefined;
    }
  }
  async redirectToAuthorization(url) {
    this.redirects++;
    this._log(`redirect to ${url.origin}${url.pathname}`);
    this.pendingCode = await authorizeInFrame(url, this._redirectUrl);
  }
}

// authorizeInFrame navigates a hidden iframe to the authorization URL and
// resolves with the code once it lands on the callback page.
function authorizeInFrame(url, callback) {
  return new Promise((resolve, reject) => {
    const frame = document.createElement('iframe');
    frame.style.display = 'none';
    const timer = setTimeout(() => { frame.remove(); reject(new Error('the authorization redirect did not reach the callback')); }, 10000);
    frame.onload = () => {
      let href;
      try {
        href = frame.contentWindow.location.href;
      } catch {
        return; // still on the authorization server's origin
      }
      if (!href.startsWith(callback)) return;
      clearTimeout(timer);
      frame.remove();
      const params = new URL(href).searchParams;
      const code = params.get('code');
      if (code) resolve(code);
      else reject(new Error(`authorization failed: ${params.get('error') || 'no code'}`));
    };
    frame.src = url.href;
    document.body.append(frame);
  });
}

export function isUnauthorized(err, lib) {
  return err instanceof lib.sdkAuth.UnauthorizedError || err?.name === 'UnauthorizedError';
}

// runScenario runs the conformance client: connect, list the tools, call
// test-tool, close; each step that ends in UnauthorizedError after a
// redirect finishes the flow and tries again (at most twice).
export async function runScenario({ variant, serverUrl, context }) {
  const [gen, kind] = variant.split('-');
  const lib = globalThis.sdks[gen];
  const log = [];
  const say = (line) => log.push(line);
  const provider = new MemoryProvider(new URL('/__esshim/callback', location.href).href, context, say);
  const url = new URL(serverUrl);
  const newTransport = () => kind === 'sdk'
    ? new lib.StreamableHTTPClientTransport(url, { authProvider: provider })
    : new globalThis.shim.StreamableHTTPClientTransport(url, { authProvider: provider, sdkAuth: lib.sdkAuth });
  let transport = newTransport();
  const client = new lib.Client({ name: 'esshim-conformance-client', version: '1.0.0' }, { capabilities: {} });
  const step = async (name, fn, reconnect) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await fn();
        say(`${name}: ok`);
        return r;
      } catch (err) {
        say(`${name}: ${err?.name}: ${err?.message}`);
        if (attempt >= 2 || !isUnauthorized(err, lib) || provider.pendingCode === undefined) throw err;
        const code = provider.pendingCode;
        provider.pendingCode = undefined;
        await transport.finishAuth(code);
        say(`${name}: finishAuth done`);
        if (reconnect) {
          await transport.close().catch(() => {});
          transport = newTransport();
        }
      }
    }
  };
  try {
    await step('connect', () => client.connect(transport), true);
    await step('tools/list', () => client.listTools());
    await step('tools/call', () => client.callTool({ name: 'test-tool', arguments: {} }));
    await client.close();
    return { ok: true, log };
  } catch (err) {
    await client.close().catch(() => {});
    return { ok: false, error: `${err?.name}: ${err?.message}`, log };
  }
}
