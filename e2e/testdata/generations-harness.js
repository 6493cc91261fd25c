// The script of the protocol-generation tests (e2e/generations_test.go),
// run by a page (generations.html) and by a module worker
// (generations-worker.js) alike: the SDK v2 Client, over one transport
// (`kind` 'sdk', the SDK's own v2 transport, the control; or 'esshim'),
// negotiating with `mode` ('legacy', 'auto' or 'pin' for
// `{ mode: { pin: '2026-07-28' } }`), against one server. A step that throws
// ends the run with `failed` set to the step and the error, rather than a
// bare exception, so the test can say what broke.
//
// Each run adds `?run=<id>` to the server URL, so the test can pick the
// run's requests out of the server's log. `stateURL` is the server's log
// (GET, JSON { requests }), which the cancel step polls to abort the slow
// call only once its tool runs.
//
// steps: 'tools' (list and echo), 'region' (the x-mcp-header tool, with the
// caller's headers if callerHeaders, and without), 'cancel', 'cut'.
export async function runGeneration({ sdk2, shim, kind, mode, url, stateURL, run, steps, cutTimeoutMs }) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const out = { kind, mode, run, failed: '', errors: [] };
  const describe = (err) => ({
    name: err?.name ?? '',
    code: err?.code ?? null,
    message: String(err?.message ?? err),
    reason: err?.data?.reason ?? '',
  });
  let step = 'setup';
  // No step may hang the run: a step that takes 10 s fails it.
  const bounded = (promise) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no outcome within 10 s')), 10000);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
  const target = new URL(url);
  target.searchParams.set('run', run);
  const versionNegotiation = mode === 'pin' ? { mode: { pin: '2026-07-28' } } : { mode };
  const transport = kind === 'sdk'
    ? new sdk2.StreamableHTTPClientTransport(target)
    : new shim.StreamableHTTPClientTransport(target);
  const client = new sdk2.Client({ name: 'esshim-generations', version: '0.0.0' }, { versionNegotiation });
  client.onerror = (err) => out.errors.push(`${err?.code ?? ''} ${err?.message ?? err}`);
  const settle = async (promise) => {
    const t0 = Date.now();
    try {
      const res = await bounded(promise);
      const at = Date.now();
      return { ms: at - t0, at, text: res?.content?.[0]?.text ?? '' };
    } catch (err) {
      const at = Date.now();
      return { ms: at - t0, at, ...describe(err), error: true };
    }
  };
  try {
    step = 'connect';
    await bounded(client.connect(transport));
    out.era = client.getProtocolEra();
    out.protocolVersion = client.getNegotiatedProtocolVersion();
    out.transportProtocolVersion = transport.protocolVersion ?? '';
    out.sessionId = transport.sessionId ?? '';
    out.server = client.getServerVersion()?.name ?? '';

    if (steps.includes('tools')) {
      step = 'tools/list';
      out.tools = (await bounded(client.listTools())).tools.map((t) => t.name);
      step = 'echo';
      out.echo = (await bounded(client.callTool({ name: 'echo', arguments: { text: 'hello' } }))).content[0].text;
    }

    if (steps.includes('region')) {
      // A page has window and document, so the 2.4.0 Client leaves the
      // Mcp-Param-* headers to the caller's RequestOptions.headers; in a
      // worker it derives them from the tool's input schema itself.
      step = 'region';
      const args = { region: 'Zürich', text: 'grüezi' };
      out.region = await settle(client.callTool({ name: 'region', arguments: { ...args, text: 'bare' } }));
      const encoded = '=?base64?' + btoa(String.fromCharCode(...new TextEncoder().encode(args.region))) + '?=';
      out.regionCallerHeaders = await settle(client.callTool({ name: 'region', arguments: args }, { headers: { 'Mcp-Param-Region': encoded } }));
    }

    if (steps.includes('cancel')) {
      step = 'cancel';
      const abort = new AbortController();
      const call = settle(client.callTool({ name: 'slow', arguments: { ms: 20000 } }, { signal: abort.signal }));
      const deadline = Date.now() + 10000;
      for (;;) {
        const { requests } = await (await fetch(stateURL)).json();
        if (requests.some((r) => r.url.includes(`run=${run}`) && r.tool === 'slow' && r.toolStarted)) break;
        if (Date.now() > deadline) throw new Error('the slow tool did not start within 10 s');
        await sleep(10);
      }
      const abortedAt = Date.now();
      out.abortAt = new Date(abortedAt).toISOString();
      abort.abort();
      out.cancel = await call;
      // From the abort, not from the call's start (which includes waiting
      // for the tool).
      out.cancel.ms = out.cancel.at - abortedAt;
      step = 'echo after cancel';
      out.afterCancel = (await bounded(client.callTool({ name: 'echo', arguments: { text: 'after cancel' } }))).content[0].text;
    }

    if (steps.includes('cut')) {
      step = 'cut';
      out.cut = await settle(client.callTool({ name: 'cut', arguments: {} }, { timeout: cutTimeoutMs }));
      step = 'echo after cut';
      out.afterCut = (await bounded(client.callTool({ name: 'echo', arguments: { text: 'after cut' } }))).content[0].text;
    }

    step = 'close';
    if (kind === 'esshim') out.snapshot = transport.snapshot();
    await bounded(client.close());
    if (kind === 'esshim') out.closed = transport.snapshot();
  } catch (err) {
    out.failed = `${step}: ${err?.code ?? ''} ${err?.message ?? err}`;
    if (kind === 'esshim') {
      try { out.snapshot = transport.snapshot(); } catch {}
    }
    await bounded(client.close()).catch(() => {});
  }
  return out;
}
