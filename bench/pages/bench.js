// The benchmark page's side of every figure. Each function runs esshim and
// its alternative in the same page, interleaved, and returns raw samples;
// bench/ (Go) computes and judges the figures. Every function checks what
// it received (counts, order, sizes) and throws when it is wrong: a fast
// wrong answer must fail the bench, never win it.

import * as sdk from '/dist/test/sdk.js';
import { NpmEventSource } from '/dist/test/eventsource.js';
import { load } from '/dist/esshim.js';

// The browser's own EventSource, kept before anything could replace it.
const NativeEventSource = globalThis.EventSource;

const KINDS = ['esshim', 'sdk'];
const clientInfo = { name: 'esshim-bench', version: '1.0.0' };

let shim;
let shimB; // with ?versus: another esshim build, from /dist-b/
let wasmMemory;

/**
 * Loads esshim. The wasm's memory is captured on the way, through
 * WebAssembly.instantiate, so the memory figure can read its size; the
 * hook is removed again once esshim is loaded. The page's query string:
 * ?wasm=URL loads another build of esshim's wasm (the profiler's, with
 * function names); ?crossings counts calls from Go into JS; ?versus loads
 * a second esshim build from /dist-b/ as the 'esshim-b' side.
 */
export async function init() {
  const instantiate = WebAssembly.instantiate;
  const params = new URLSearchParams(location.search);
  WebAssembly.instantiate = async function (...args) {
    if (params.has('crossings')) countCrossings(args[1]);
    const result = await instantiate.apply(this, args);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    wasmMemory = instance.exports.mem;
    return result;
  };
  try {
    const wasm = params.get('wasm');
    shim = await load(wasm ? { wasm: new URL(wasm, location.href) } : {});
  } finally {
    WebAssembly.instantiate = instantiate;
  }
  if (!(wasmMemory instanceof WebAssembly.Memory)) throw new Error('bench: could not capture the wasm memory');
  if (params.has('versus')) shimB = await (await import('/dist-b/esshim.js')).load();
  return { version: shim.version, sdk: sdk.SDK_VERSION };
}

// crossings counts the calls from Go into each import of wasm_exec.js
// (?crossings in the page URL): every one is a crossing of the Go↔JS
// boundary, the cost the issue asks to batch away.
const crossings = {};

function countCrossings(importObject) {
  const imports = importObject.gojs || importObject.go;
  for (const [name, fn] of Object.entries(imports)) {
    imports[name] = function (...args) {
      crossings[name] = (crossings[name] || 0) + 1;
      return fn.apply(this, args);
    };
  }
}

/** Returns the crossings counted since the last call, and resets them. */
export function takeCrossings() {
  const out = { ...crossings };
  for (const k of Object.keys(crossings)) delete crossings[k];
  return out;
}

function newTransport(kind, path) {
  const url = new URL(path, location.href);
  switch (kind) {
    case 'esshim': return new shim.StreamableHTTPClientTransport(url);
    case 'esshim-b': return new shimB.StreamableHTTPClientTransport(url);
    case 'sdk': return new sdk.StreamableHTTPClientTransport(url);
  }
  throw new Error(`bench: no transport ${kind}`);
}

function check(ok, message) {
  if (!ok) throw new Error('bench: ' + message);
}

// order alternates which side goes first, round after round, so that
// neither always runs right after the other's garbage. kinds is both
// sides, or one alone when the profiler runs.
function order(kinds, i) {
  return Math.abs(i) % 2 === 0 ? kinds : [...kinds].reverse();
}

async function connectClient(kind, path) {
  const client = new sdk.Client(clientInfo, { capabilities: {} });
  const errors = [];
  client.onerror = (err) => errors.push(String(err && err.message || err));
  await client.connect(newTransport(kind, path));
  return { client, errors };
}

async function closeClient({ client, errors }, kind) {
  await client.transport.terminateSession();
  await client.close();
  check(errors.length === 0, `${kind}: client.onerror: ${errors.join('; ')}`);
}

/**
 * tools/call round trips with the SDK's Client on top of each transport.
 * Both clients stay connected; calls alternate between them.
 */
export async function roundTrips({ path, calls, warmup, kinds = KINDS }) {
  const clients = {};
  for (const kind of kinds) clients[kind] = await connectClient(kind, path);
  const call = async (kind, i) => {
    const text = `round trip ${i}`;
    const t0 = performance.now();
    const result = await clients[kind].client.callTool({ name: 'echo', arguments: { text } });
    const ms = performance.now() - t0;
    check(result.content[0].text === text, `${kind}: echo answered ${JSON.stringify(result)}`);
    return ms;
  };
  for (let i = 0; i < warmup; i++) for (const kind of order(kinds, i)) await call(kind, i);
  const samples = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let i = 0; i < calls; i++) for (const kind of order(kinds, i)) samples[kind].push(await call(kind, i));
  for (const kind of kinds) await closeClient(clients[kind], kind);
  return samples;
}

/**
 * A JSON-RPC session straight on a transport, without the SDK's Client:
 * what the transport figures measure is the transport.
 */
async function rawSession(transport, kind) {
  const pending = new Map();
  const errors = [];
  const session = { notifications: 0 };
  let nextId = 1;
  transport.onmessage = (message) => {
    if (message.method === undefined) {
      const settle = pending.get(message.id);
      check(settle, `${kind}: a response to no pending request: ${JSON.stringify(message).slice(0, 200)}`);
      pending.delete(message.id);
      settle(message);
    } else if (message.method === 'notifications/message') {
      session.notifications++;
    }
  };
  transport.onerror = (err) => errors.push(`${err.code || ''} ${err.message}`);
  // A request that gets no response within a minute fails the figure with
  // what the transport knows, rather than hanging the bench.
  session.request = (method, params) => new Promise((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      const state = transport.snapshot ? JSON.stringify(transport.snapshot()) : '';
      reject(new Error(`${kind}: no response to ${method} #${id} after 60 s; errors: ${errors.join('; ')}; ${state}`));
    }, 60000);
    pending.set(id, (message) => {
      clearTimeout(timer);
      if (message.error) reject(new Error(`${kind}: ${method}: ${message.error.message}`));
      else resolve(message.result);
    });
    transport.send({ jsonrpc: '2.0', id, method, params }).catch((err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  session.errors = () => {
    check(errors.length === 0, `${kind}: transport.onerror: ${errors.join('; ')}`);
  };
  await transport.start();
  const init = await session.request('initialize', { protocolVersion: sdk.LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo });
  transport.setProtocolVersion(init.protocolVersion);
  await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return session;
}

async function openRaw(kind, path) {
  const transport = newTransport(kind, path);
  const session = await rawSession(transport, kind);
  session.close = async () => {
    await transport.terminateSession();
    await transport.close();
    session.errors();
  };
  return session;
}

/**
 * Notifications per second on one POST SSE stream: count notifications,
 * then the result, straight on each transport.
 */
export async function notifications({ path, count, rounds, warmup = 0, kinds = KINDS }) {
  const sessions = {};
  for (const kind of kinds) sessions[kind] = await openRaw(kind, path);
  const samples = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let r = -warmup; r < rounds; r++) {
    for (const kind of order(kinds, r)) {
      const s = sessions[kind];
      s.notifications = 0;
      const t0 = performance.now();
      await s.request('tools/call', { name: 'flood', arguments: { count } });
      const ms = performance.now() - t0;
      check(s.notifications === count, `${kind}: ${s.notifications} of ${count} notifications arrived before the result`);
      if (r >= 0) samples[kind].push((count / ms) * 1000);
    }
  }
  for (const kind of kinds) await sessions[kind].close();
  return samples;
}

/**
 * The same with the SDK's Client on top, as an application sees it: its
 * notification handler runs for every message.
 */
export async function notificationsWithClient({ path, count, rounds, warmup = 0, kinds = KINDS }) {
  const clients = {};
  const received = {};
  const waiting = {};
  for (const kind of kinds) {
    clients[kind] = await connectClient(kind, path);
    clients[kind].client.setNotificationHandler(sdk.LoggingMessageNotificationSchema, () => {
      if (++received[kind] === count) waiting[kind]?.();
    });
  }
  const samples = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let r = -warmup; r < rounds; r++) {
    for (const kind of order(kinds, r)) {
      received[kind] = 0;
      const all = new Promise((resolve) => { waiting[kind] = resolve; });
      const t0 = performance.now();
      await clients[kind].client.callTool({ name: 'flood', arguments: { count } });
      // The Client runs notification handlers a microtask after the
      // message; the figure ends when the last one has run.
      if (received[kind] < count) await Promise.race([all, sleep(30000)]);
      const ms = performance.now() - t0;
      check(received[kind] === count, `${kind}: ${received[kind]} of ${count} notifications reached the Client's handler`);
      if (r >= 0) samples[kind].push((count / ms) * 1000);
    }
  }
  for (const kind of kinds) await closeClient(clients[kind], kind);
  return samples;
}

/** Time to receive one large tools/call result on an SSE stream. */
export async function largeResult({ path, bytes, rounds, warmup = 0, kinds = KINDS }) {
  const sessions = {};
  for (const kind of kinds) sessions[kind] = await openRaw(kind, path);
  const samples = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let r = -warmup; r < rounds; r++) {
    for (const kind of order(kinds, r)) {
      const t0 = performance.now();
      const result = await sessions[kind].request('tools/call', { name: 'big', arguments: { bytes } });
      const ms = performance.now() - t0;
      const text = result.content[0].text;
      check(text.length === result._meta.chars, `${kind}: the text has ${text.length} chars, the server sent ${result._meta.chars}`);
      check(text.endsWith('"ok": true}\n'), `${kind}: the text ends wrong`);
      if (r >= 0) samples[kind].push(ms);
    }
  }
  for (const kind of kinds) await sessions[kind].close();
  return samples;
}

const eventSources = {
  esshim: () => shim.EventSource,
  'esshim-b': () => shimB.EventSource,
  npm: () => NpmEventSource,
  native: () => NativeEventSource,
};

/**
 * Receives n events of size bytes of data on one EventSource of kind,
 * from construction to the last event, and returns the milliseconds.
 */
export function eventSource({ kind, n, size }) {
  return new Promise((resolve, reject) => {
    const Ctor = eventSources[kind]();
    let count = 0, chars = 0;
    const t0 = performance.now();
    const es = new Ctor(`/events?n=${n}&size=${size}`);
    const timer = setTimeout(() => fail(new Error(`${kind}: ${count} of ${n} events after 60 s`)), 60000);
    function fail(err) {
      clearTimeout(timer);
      es.close();
      reject(err);
    }
    es.onmessage = (ev) => {
      count++;
      chars += ev.data.length;
      if (count !== n) return;
      const ms = performance.now() - t0;
      clearTimeout(timer);
      es.close();
      const last = JSON.parse(ev.data);
      if (last.seq !== n - 1 || chars !== n * size) {
        reject(new Error(`${kind}: last event ${last.seq}, ${chars} chars; want ${n - 1}, ${n * size}`));
        return;
      }
      resolve(ms);
    };
    es.onerror = () => {
      if (count < n) fail(new Error(`${kind}: error event after ${count} of ${n} events`));
    };
  });
}

/**
 * Start/close cycles with traffic on one esshim transport: each cycle
 * starts, initializes (so the standalone GET opens), calls a tool, and
 * closes. Returns what the memory figure reads afterwards.
 */
export async function cycles({ path, n }) {
  globalThis.cycleTransport ??= new shim.StreamableHTTPClientTransport(new URL(path, location.href));
  const transport = globalThis.cycleTransport;
  for (let i = 0; i < n; i++) {
    const session = await rawSession(transport, 'esshim');
    const text = `cycle ${i}`;
    const result = await session.request('tools/call', { name: 'echo', arguments: { text } });
    check(result.content[0].text === text, `cycle ${i}: echo answered ${JSON.stringify(result)}`);
    await transport.close();
    session.errors();
  }
  return memoryState();
}

/** The wasm linear memory and esshim's live goroutines and js.Funcs. */
export function memoryState() {
  const stats = shim.debug.stats();
  return { wasmBytes: wasmMemory.buffer.byteLength, goroutines: stats.goroutines, funcs: stats.funcs };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

