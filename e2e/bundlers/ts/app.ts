// A TypeScript app's view of esshim, type-checked with `tsc --noEmit` under
// strict: the transport must be assignable to the Transport type of both
// TypeScript SDK generations, and the EventSource types must serve a
// typical use. Nothing here runs; the browser tests run the same calls.
import { load, type Esshim, type EsshimError, type EsshimEventSourceInit, type StreamableHTTPClientTransport } from 'esshim';
import type { Transport as TransportV1 } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV2 } from '@modelcontextprotocol/client';

export async function connectBoth(url: string): Promise<string> {
  const shim: Esshim = await load();
  const version: string = shim.version;

  // @modelcontextprotocol/sdk 1.x
  const t1: StreamableHTTPClientTransport = new shim.StreamableHTTPClientTransport(new URL(url), {
    headers: async () => ({ Authorization: 'Bearer token' }),
    sessionExpiry: 'reinitialize',
    reconnectionOptions: { maxRetries: 3 },
  });
  const asV1: TransportV1 = t1;
  const c1 = new ClientV1({ name: 'ts-app', version });
  await c1.connect(asV1);
  await c1.connect(new shim.StreamableHTTPClientTransport(url));

  // @modelcontextprotocol/client 2.x
  const asV2: TransportV2 = new shim.StreamableHTTPClientTransport(url);
  const c2 = new ClientV2({ name: 'ts-app', version });
  await c2.connect(asV2);

  t1.onerror = (err) => {
    const code: EsshimError['code'] | undefined = err.code;
    if (err.code === 'HTTP_ERROR' && err.status === 401) console.log('sign in again');
  };
  return t1.sessionId ?? '';
}

export async function events(url: string): Promise<void> {
  const shim = await load({ wasm: new URL('./esshim.wasm', import.meta.url) });
  const init: EsshimEventSourceInit = { withCredentials: true, method: 'POST', headers: { 'X-Token': 't' }, body: '{}' };
  const es = new shim.EventSource(url, init);
  es.onmessage = (e: MessageEvent<string>) => console.log(e.data.length, e.lastEventId, e.origin);
  es.onerror = () => {
    if (es.readyState === shim.EventSource.CLOSED) console.log('closed for good');
  };
  es.addEventListener('tick', (e) => console.log(e.type));
  // Code written against the DOM's EventSource accepts esshim's.
  const asDom: EventSource = es;
  asDom.close();
  const uninstall: () => void = shim.install(globalThis);
  uninstall();
}
