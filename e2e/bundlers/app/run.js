// runApp(url) is what a web MCP client does with esshim installed from npm:
// it connects the SDK's Client to the server at url over esshim's
// transport, calls a tool, and reports what it saw. `import { load } from
// 'esshim'` is all it says about the wasm: the bundler finds it.
import { load } from 'esshim';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';

export async function runApp(url) {
  const shim = await load();
  const transport = new shim.StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'esshim-bundler-app', version: '1.0.0' });
  await client.connect(transport);
  const sessionId = transport.sessionId;
  const result = await client.callTool({ name: 'echo', arguments: { text: 'bundled' } });
  await client.close();
  // Where the wasm came from: the bundler's asset, under the app's origin.
  const wasm = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\.wasm($|\?)/.test(n));
  return { version: shim.version, sessionId, echo: result.content[0].text, wasm };
}
