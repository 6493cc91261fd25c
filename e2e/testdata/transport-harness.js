// The browser half of the transport tests: a thin recorder around esshim's
// StreamableHTTPClientTransport. It speaks raw JSON-RPC, as the TypeScript
// SDK's Client does through the Transport interface, and records every
// callback with the wall-clock time it happened (Date.now(), comparable with
// the Go server's time.Now() on the same machine), so that a Go test can
// count outcomes on the client side and line them up with the fault server's
// records.

import { RPCLog, errorRecord } from './rpc-log.js';

export { sleep, textOf } from './rpc-log.js';

export class Harness extends RPCLog {
  constructor(shim, url, options = {}) {
    super(new shim.StreamableHTTPClientTransport(url, options));
    this.errors = []; // every error onerror got: { at, code, status, message, isError }
    this.closes = 0;
    this.t.onmessage = (message) => this.record(message);
    this.t.onerror = (err) => this.errors.push(errorRecord(err));
    this.t.onclose = () => {
      this.closes++;
    };
  }

  // request sends one JSON-RPC request and resolves with its first outcome,
  // { id, sentAt, at, message }; it rejects when send rejects.
  async request(method, params, sendOptions, id) {
    const sent = await this.send(method, params, sendOptions, id);
    return { id: sent.id, sentAt: sent.sentAt, ...(await sent.outcome) };
  }

  callTool(name, args, sendOptions, id) {
    return this.request('tools/call', { name, arguments: args }, sendOptions, id);
  }

  // connect does what the SDK's Client.connect does: start, initialize,
  // adopt the negotiated protocol version, notifications/initialized.
  async connect(protocolVersion) {
    await this.t.start();
    return (await this.initialize(protocolVersion)).message.result;
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
