// The browser half of the lifecycle tests: a recorder around esshim's
// StreamableHTTPClientTransport that counts what the transport itself
// delivers, whoever handles it. The SDK's Client wraps the handlers it finds
// on a transport each time it connects (so on the n-th
// client.connect(sameTransport) its own onclose runs n times); the recorder
// sits underneath all of that, counting each call the transport makes
// exactly once. Every record carries Date.now(), comparable with the Go fault
// server's clock on the same machine.

import { RPCLog, errorRecord, sleep } from './rpc-log.js';

export { sleep, textOf } from './rpc-log.js';

export class Recorder extends RPCLog {
  // With logFetches, every fetch the transport makes goes through a
  // wrapper of the page's fetch that logs it with the lifecycle it was made
  // in, as the page sees lifecycles: start() resolved opens one, a call of
  // close() ends it. fetchGhosts() then proves from the client side that
  // no fetch was made while closed, and none carried another lifecycle's
  // session id.
  constructor(shim, url, options = {}, { logFetches = false } = {}) {
    // The fetch wrapper runs only once the transport fetches, after super().
    if (logFetches) {
      const inner = options.fetch ?? ((url, init) => fetch(url, init));
      options = {
        ...options,
        fetch: (url, init) => {
          const h = init?.headers ?? {};
          const entry = { at: Date.now(), method: init?.method ?? 'GET', sessionId: h['mcp-session-id'] ?? '',
            lastEventId: h['last-event-id'] ?? '', ids: requestIds(init?.body), lifecycle: this.lifecycle, open: this.open, abortedAt: 0 };
          this.fetches.push(entry);
          init?.signal?.addEventListener('abort', () => (entry.abortedAt = Date.now()));
          return inner(url, init);
        },
      };
    }
    super(new shim.StreamableHTTPClientTransport(url, options));
    this.fetches = []; // { at, method, sessionId, lastEventId, ids, lifecycle, open, abortedAt }
    this.lifecycle = 0; // lifecycles started, as seen by start() and close()
    this.open = false;
    const start = this.t.start.bind(this.t), close = this.t.close.bind(this.t);
    this.t.start = async () => {
      await start();
      this.lifecycle++;
      this.open = true;
    };
    this.t.close = () => {
      this.open = false;
      return close();
    };
    this.errors = []; // { at, code, status, message, isError }
    this.closes = []; // Date.now() of each onclose
    this.sessionChanges = []; // { at, newId, oldId }
    instrument(this.t, 'onmessage', (message) => this.record(message));
    instrument(this.t, 'onerror', (err) => this.errors.push(errorRecord(err)));
    instrument(this.t, 'onclose', () => this.closes.push(Date.now()));
    instrument(this.t, 'onsessionchange', (newId, oldId) => this.sessionChanges.push({ at: Date.now(), newId, oldId }));
  }

  // settle sends one request and resolves with its outcome: { id, sentAt,
  // at, message } when one arrived through onmessage, or { id, sentAt, at,
  // sendError } when send() rejected. It never rejects, so that a test can
  // count every outcome of many requests.
  async settle(method, params, id = this.nextId++) {
    let sent;
    try {
      sent = await this.send(method, params, undefined, id);
    } catch (err) {
      return { id, sentAt: err.sentAt, at: Date.now(), sendError: { code: err?.code, status: err?.status, message: String(err?.message) } };
    }
    return { id, sentAt: sent.sentAt, ...(await sent.outcome) };
  }

  // request is settle for requests that must get a message: it rejects
  // when send() does.
  async request(method, params, id) {
    const o = await this.settle(method, params, id);
    if (o.sendError) throw Object.assign(new Error(`send ${method}: ${o.sendError.code} ${o.sendError.message}`), o.sendError);
    return o;
  }

  callTool(name, args, id) {
    return this.request('tools/call', { name, arguments: args }, id);
  }

  initialize(protocolVersion) {
    return super.initialize(protocolVersion, 'esshim-lifecycle-e2e');
  }

  async connect(protocolVersion) {
    await this.t.start();
    return this.initialize(protocolVersion);
  }

  snap() {
    return { at: Date.now(), ...this.t.snapshot() };
  }

  // fetchGhosts lists the logged fetches made while no lifecycle was open,
  // or carrying a session id that an earlier lifecycle used.
  fetchGhosts() {
    const owner = new Map(); // session id -> the lifecycle that first sent it
    const out = [];
    for (const f of this.fetches) {
      if (!f.open) out.push({ why: 'made while closed', ...f });
      if (!f.sessionId) continue;
      if (!owner.has(f.sessionId)) owner.set(f.sessionId, f.lifecycle);
      else if (owner.get(f.sessionId) !== f.lifecycle) out.push({ why: 'session id of lifecycle ' + owner.get(f.sessionId), ...f });
    }
    return out;
  }
}

// instrument makes obj[name] an accessor that records every call the
// transport makes through it, whatever handler is set. The getter returns
// the handler of that moment wrapped (one wrapper per handler), so a
// handler that captured the previous one, as the SDK's Protocol.connect
// does, calls the previous wrapper from inside the outer call: only the
// outermost call is recorded.
function instrument(obj, name, record) {
  let handler = obj[name];
  let depth = 0;
  const wrappers = new WeakMap();
  const bare = wrap(undefined);
  function wrap(fn) {
    return (...args) => {
      if (depth === 0) record(...args);
      depth++;
      try {
        return fn?.(...args);
      } finally {
        depth--;
      }
    };
  }
  Object.defineProperty(obj, name, {
    configurable: true,
    enumerable: true,
    get() {
      if (typeof handler !== 'function') return bare;
      let w = wrappers.get(handler);
      if (!w) wrappers.set(handler, (w = wrap(handler)));
      return w;
    },
    set(fn) {
      handler = fn;
    },
  });
}

// requestIds returns the JSON texts of the ids of the requests in a POST
// body (the transport passes bytes), for the fetch log.
function requestIds(body) {
  if (!body) return [];
  try {
    const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
    const parsed = JSON.parse(text);
    return (Array.isArray(parsed) ? parsed : [parsed]).filter((m) => m && m.method && 'id' in m).map((m) => JSON.stringify(m.id));
  } catch {
    return [];
  }
}

// waitUntil polls pred every few milliseconds until it returns a truthy
// value, which it resolves with; it rejects after timeoutMs.
export async function waitUntil(pred, timeoutMs = 5000, what = String(pred)) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

// within resolves with what promise resolves with, or with null if that
// takes longer than ms: a request that never settles fails its test fast.
export function within(promise, ms) {
  return Promise.race([promise, sleep(ms).then(() => null)]);
}

// deferred returns a promise with its resolve function, for a hook that
// the test holds pending (a slow token refresh).
export function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

// reasonOf returns data.reason of a made-up error response.
export function reasonOf(message) {
  return message?.error?.data?.reason;
}
