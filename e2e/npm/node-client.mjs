// node-client.mjs drives an MCP server from Node, not a browser, through
// esshim's transport under the SDK's own Client: Node 20's fetch (undici 6)
// has a bug that esshim must not turn into a hang (see wasm/fetch.go,
// exchange.abort). e2e/node_test.go runs it against npm/tsserver.mjs.
//
//   node e2e/npm/node-client.mjs DIST URL
//
// DIST holds esshim.js and esshim.wasm. It makes three calls whose
// responses are streamed (each ends a POST SSE stream the way that
// triggered the bug), receives a log message on the standalone stream,
// terminates the session and closes, each step within a deadline. Prints a
// JSON summary and exits 0, or prints the failed step and exits 1.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, url] = process.argv.slice(2);
if (!dist || !url) {
  console.error('usage: node node-client.mjs DIST URL');
  process.exit(2);
}

const within = (ms, what, promise) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms)),
]);

const out = { progress: [], logs: [], errors: [] };
let step = 'load';
try {
  const { load } = await import(pathToFileURL(path.resolve(dist, 'esshim.js')).href);
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
  const shim = await load({ wasm: fs.readFileSync(path.resolve(dist, 'esshim.wasm')) });
  const transport = new shim.StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'esshim-node', version: '0.0.0' });
  client.onerror = (err) => out.errors.push(`${err.code || ''} ${err.message}`);
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => out.logs.push(n.params.data));
  step = 'connect';
  await within(5000, step, client.connect(transport));
  for (let i = 1; i <= 3; i++) {
    step = `progress call ${i}`;
    const r = await within(5000, step, client.callTool({ name: 'progress', arguments: { steps: 2, intervalMs: 5 } }));
    out.progress.push(r.content[0].text);
  }
  step = 'standalone stream';
  await within(5000, step, (async () => {
    while (!transport.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open')) {
      await new Promise((r) => setTimeout(r, 10));
    }
  })());
  step = 'notify';
  await within(5000, step, client.callTool({ name: 'notify', arguments: { text: 'hello from node' } }));
  await within(5000, 'the log message', (async () => {
    while (out.logs.length === 0) await new Promise((r) => setTimeout(r, 10));
  })());
  step = 'terminateSession';
  await within(5000, step, transport.terminateSession());
  step = 'close';
  await within(3000, step, client.close());
  out.closed = transport.snapshot();
  console.log(JSON.stringify(out));
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify({ ...out, failed: `${step}: ${err.code || ''} ${err.message}` }));
  process.exit(1);
}
