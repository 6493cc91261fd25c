// The browser half of the transport tests: a thin recorder around esshim's
// StreamableHTTPClientTransport. It speaks raw JSON-RPC, as the TypeScript
// SDK's Client does through the Transport interface, and records every
// callback with the wall-clock time it happened (Date.now(), comparable with
// the Go server's time.Now() on the same machine), so that a Go test can
// count outcomes on the client side and line them up with the fault server's
// records.

export class Harness {
  constructor(shim, url, options = {}) {
    this.t = new shim.StreamableHTTPClientTransport(url, options);
    this.nextId = 1;
    this.messages = []; // every message onmessage got: { at, message }
    this.errors = []; // every error onerror got: { at, code, status, message, isError }
    this.closes = 0;
    this.outcomes = new Map(); // JSON text of a response id -> [{ at, message }]
    this.waiters = new Map(); // JSON text of a request id -> resolve of its first outcome
    this.t.onmessage = (message) => this.#message(message);
    this.t.onerror = (err) => {
      this.errors.push({
        at: Date.now(),
        code: err?.code,
        status: err?.status,
        message: String(err?.message),
        isError: err instanceof Error,
      });
    };
    this.t.onclose = () => {
      this.closes++;
    };
  }

  #message(message) {
    const at = Date.now();
    this.messages.push({ at, message });
    const isResponse = message && 'id' in message && ('result' in message || 'error' in message);
    if (!isResponse) return;
    const key = JSON.stringify(message.id);
    const list = this.outcomes.get(key) ?? [];
    list.push({ at, message });
    this.outcomes.set(key, list);
    const resolve = this.waiters.get(key);
    if (resolve) {
      this.waiters.delete(key);
      resolve({ at, message });
    }
  }

  // request sends one JSON-RPC request and resolves with its first outcome,
  // { id, sentAt, at, message }; it rejects when send rejects.
  async request(method, params, sendOptions, id = this.nextId++) {
    const key = JSON.stringify(id);
    const outcome = new Promise((resolve) => this.waiters.set(key, resolve));
    const sentAt = Date.now();
    try {
      await this.t.send({ jsonrpc: '2.0', id, method, params }, sendOptions);
    } catch (err) {
      this.waiters.delete(key);
      throw err;
    }
    return { id, sentAt, ...(await outcome) };
  }

  // outcomeOf resolves with the first outcome of request id, whether it
  // came already or comes later: for requests sent by hand, in batches.
  outcomeOf(id) {
    const key = JSON.stringify(id);
    const seen = this.outcomes.get(key);
    if (seen) return Promise.resolve(seen[0]);
    return new Promise((resolve) => this.waiters.set(key, resolve));
  }

  callTool(name, args, sendOptions, id) {
    return this.request('tools/call', { name, arguments: args }, sendOptions, id);
  }

  notify(method, params) {
    const message = { jsonrpc: '2.0', method };
    if (params !== undefined) message.params = params;
    return this.t.send(message);
  }

  // connect does what the SDK's Client.connect does: start, initialize,
  // adopt the negotiated protocol version, notifications/initialized.
  async connect(protocolVersion = '2025-06-18') {
    await this.t.start();
    const init = await this.request('initialize', {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: 'esshim-e2e', version: '0.0.0' },
    });
    if (init.message.error) throw new Error('initialize failed: ' + JSON.stringify(init.message.error));
    this.t.setProtocolVersion(init.message.result.protocolVersion);
    await this.notify('notifications/initialized');
    return init.message.result;
  }

  // outcomeCounts maps the JSON text of every response id to the number
  // of outcomes it got: "exactly once" wants 1 everywhere.
  outcomeCounts() {
    return Object.fromEntries([...this.outcomes].map(([k, v]) => [k, v.length]));
  }

  errorCodes() {
    return this.errors.map((e) => e.code);
  }

  // watch samples snapshot() every intervalMs into this.snapshots until
  // the returned function is called.
  watch(intervalMs = 5) {
    this.snapshots = [];
    const timer = setInterval(() => this.snapshots.push({ at: Date.now(), ...this.t.snapshot() }), intervalMs);
    return () => clearInterval(timer);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// textOf returns the text of a tools/call result message.
export function textOf(message) {
  return message?.result?.content?.[0]?.text;
}
