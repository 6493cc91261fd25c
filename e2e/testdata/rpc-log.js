// What the transport and lifecycle harnesses share: a JSON-RPC client's
// bookkeeping over a transport. Every message onmessage got is kept with the
// wall-clock time it came (Date.now(), comparable with the Go servers'
// clocks on the same machine), and every response is filed under its id,
// so that a test can wait for one and count how many each request got.

export class RPCLog {
  constructor(transport) {
    this.t = transport;
    this.nextId = 1;
    this.messages = []; // { at, message }
    this.outcomes = new Map(); // JSON text of a response id -> [{ at, message }]
    this.waiters = new Map(); // JSON text of a request id -> resolve of its first outcome
  }

  // record is what onmessage does.
  record(message) {
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

  // send sends one request. It resolves with { id, sentAt, outcome }, where
  // outcome resolves with the request's first { at, message }; when send()
  // rejects, it rejects with that error, and sentAt added to it.
  async send(method, params, sendOptions, id = this.nextId++) {
    const key = JSON.stringify(id);
    const outcome = new Promise((resolve) => this.waiters.set(key, resolve));
    const sentAt = Date.now();
    try {
      await this.t.send({ jsonrpc: '2.0', id, method, params }, sendOptions);
    } catch (err) {
      this.waiters.delete(key);
      throw Object.assign(err ?? new Error('send rejected'), { sentAt });
    }
    return { id, sentAt, outcome };
  }

  // outcomeOf resolves with the first outcome of request id, whether it
  // came already or comes later: for requests sent by hand, in batches.
  outcomeOf(id) {
    const key = JSON.stringify(id);
    const seen = this.outcomes.get(key);
    if (seen) return Promise.resolve(seen[0]);
    return new Promise((resolve) => this.waiters.set(key, resolve));
  }

  notify(method, params) {
    const message = { jsonrpc: '2.0', method };
    if (params !== undefined) message.params = params;
    return this.t.send(message);
  }

  // initialize does the handshake the SDK's Client.connect does after
  // start(): initialize, adopt the version, notifications/initialized.
  // It resolves with the initialize outcome.
  async initialize(protocolVersion = '2025-06-18', clientName = 'esshim-e2e') {
    const init = await this.request('initialize', {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: clientName, version: '0.0.0' },
    });
    if (init.message.error) throw new Error('initialize failed: ' + JSON.stringify(init.message.error));
    this.t.setProtocolVersion(init.message.result.protocolVersion);
    await this.notify('notifications/initialized');
    return init;
  }

  // outcomeCounts maps the JSON text of every response id to the number
  // of outcomes it got: "exactly once" wants 1 everywhere.
  outcomeCounts() {
    return Object.fromEntries([...this.outcomes].map(([k, v]) => [k, v.length]));
  }
}

// errorRecord is what the harnesses keep of an error given to onerror.
export function errorRecord(err) {
  return { at: Date.now(), code: err?.code, status: err?.status, message: String(err?.message), isError: err instanceof Error };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// textOf returns the text of a tools/call result message.
export function textOf(message) {
  return message?.result?.content?.[0]?.text;
}
