// A minimal MCP client over any Transport with the TypeScript SDK's shape
// (start, send, close, terminateSession, setProtocolVersion, onmessage,
// onerror, onclose). It does the handshake by hand so that the console can
// show every message, and so that the page needs no SDK and no build step.
//
// It speaks both protocol eras, and negotiates between them as the SDK v2
// Client does (`negotiation`):
//   - 'legacy': the 2025 initialize handshake; the server keeps a session.
//   - 'auto': first a server/discover probe carrying the 2026-07-28
//     envelope; a server that offers 2026-07-28 gets the stateless era,
//     any other answer (an error, or only 2025 versions) the handshake.
//   - 'pin': 2026-07-28 or nothing.
// In the 2026 era every request carries the `_meta` envelope (version,
// client info, capabilities), from which the transport derives the
// MCP-Protocol-Version, Mcp-Method and Mcp-Name headers; a tools/call also
// gets the Mcp-Param-* headers its tool's input schema declares
// (x-mcp-header), and cancelling a request aborts its POST (requestSignal).

/** The 2025 protocol revisions this client speaks, newest first. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];

/** The stateless protocol revision (the 2026 era). */
export const MODERN_VERSION = '2026-07-28';

/** The negotiation modes, as the SDK v2 Client's versionNegotiation modes. */
export const NEGOTIATION_MODES = ['auto', 'legacy', 'pin'];

const META = 'io.modelcontextprotocol/';

/** JSON-RPC error codes the client answers with. */
const METHOD_NOT_FOUND = -32601;
const INTERNAL_ERROR = -32603;

/**
 * An Error for a JSON-RPC error response, or for a request that could not
 * complete. `code` is the JSON-RPC code (a number) or, for transport and
 * lifecycle failures, the transport's string code.
 */
export class McpError extends Error {
  constructor(message, code, data) {
    super(message);
    this.name = 'McpError';
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/**
 * McpClient correlates requests and responses by id, answers server→client
 * requests through `handlers`, and routes progress notifications to the
 * call that asked for them.
 *
 * Hooks, all optional:
 *   handlers: { [method]: async (params, request) => result }  server→client requests
 *   onnotification(message)  every notification the server sent
 *   ontrace({ dir: 'out' | 'in', message } | { dir: 'error', error })  every message both ways, every transport error
 *   onclose()  the transport closed without close() being called
 */
export class McpClient {
  #transport;
  #nextId = 1;
  #nextToken = 1;
  #pending = new Map(); // request id → { resolve, reject, method, token }
  #progress = new Map(); // progress token → callback
  #started = false;
  #expectedCloses = 0; // onclose calls that our own close() will cause
  #envelope = false; // whether requests carry the 2026-07-28 _meta envelope
  #aborts = new Map(); // request id → AbortController (2026 era: cancelling aborts the POST)
  #tools = new Map(); // tool name → tool, for the Mcp-Param-* headers

  constructor(transport, { clientInfo, capabilities, handlers = {}, onnotification, ontrace, onclose, negotiation = 'auto' } = {}) {
    this.#transport = transport;
    /** 'auto', 'legacy' or 'pin' (2026-07-28); read at every connect(). */
    this.negotiation = negotiation;
    /** The era of the current connection: 'modern' (2026-07-28) or 'legacy' (2025). */
    this.era = undefined;
    this.clientInfo = clientInfo ?? { name: 'esshim-console', version: '0.1.0' };
    this.capabilities = capabilities ?? { elicitation: { form: {} }, sampling: {} };
    this.handlers = { ping: () => ({}), 'elicitation/create': promptElicitation, ...handlers };
    this.onnotification = onnotification;
    this.ontrace = ontrace;
    this.onclose = onclose;
    /** The initialize result of the current connection, once connected. */
    this.server = undefined;

    transport.onmessage = (message) => this.#receive(message);
    transport.onerror = (error) => this.ontrace?.({ dir: 'error', error });
    transport.onclose = () => this.#closed();
  }

  get transport() { return this.#transport; }

  /** Ids of the requests this client still waits for. */
  get pending() { return [...this.#pending.keys()]; }

  /**
   * Starts the transport and negotiates the era (see the top of this file).
   * In the 2026 era it resolves with the server/discover result, with
   * protocolVersion set; in the 2025 era it runs the handshake
   * (initialize, setProtocolVersion, notifications/initialized) and
   * resolves with the initialize result.
   */
  async connect() {
    await this.#transport.start();
    this.#started = true;
    this.era = undefined;
    this.#tools.clear();
    try {
      if (this.negotiation !== 'legacy') {
        const discovered = await this.#discover();
        if (discovered) return discovered;
      }
      return await this.#initialize();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  // #discover probes with server/discover. It resolves with the result if
  // the server speaks 2026-07-28, and with undefined if the client should
  // fall back to the handshake ('auto'); 'pin' fails instead.
  async #discover() {
    this.#envelope = true;
    let result;
    try {
      result = await this.request('server/discover', {});
    } catch (err) {
      this.#envelope = false;
      if (this.negotiation === 'pin') throw err;
      return undefined; // a 2025 server: an error, or a 400
    }
    if (!result?.supportedVersions?.includes(MODERN_VERSION)) {
      this.#envelope = false;
      if (this.negotiation === 'pin') {
        throw new McpError(`the server does not speak ${MODERN_VERSION} (it offers ${result?.supportedVersions?.join(', ') || 'nothing'})`, 'UNSUPPORTED_PROTOCOL_VERSION');
      }
      return undefined;
    }
    this.#transport.setProtocolVersion?.(MODERN_VERSION);
    this.era = 'modern';
    this.server = {
      ...result,
      protocolVersion: MODERN_VERSION,
      serverInfo: result.serverInfo ?? result._meta?.[`${META}serverInfo`],
    };
    return this.server;
  }

  // #initialize runs the 2025 handshake.
  async #initialize() {
    const result = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSIONS[0],
      capabilities: this.capabilities,
      clientInfo: this.clientInfo,
    });
    if (!PROTOCOL_VERSIONS.includes(result.protocolVersion)) {
      throw new McpError(`the server chose protocol version ${result.protocolVersion}, which this client does not speak`, 'UNSUPPORTED_PROTOCOL_VERSION');
    }
    this.#transport.setProtocolVersion(result.protocolVersion);
    // Accepting this notification is what opens the standalone stream.
    await this.notify('notifications/initialized');
    this.era = 'legacy';
    this.server = result;
    return result;
  }

  /** Remembers the tools of a tools/list result, for their Mcp-Param-* headers. */
  rememberTools(tools = []) {
    for (const tool of tools) this.#tools.set(tool.name, tool);
  }

  /**
   * Sends a request and resolves with its result, or rejects with an
   * McpError. With onprogress, the request carries a progress token and
   * onprogress gets every notifications/progress params for it. The
   * returned promise carries the request's id as `id`.
   */
  request(method, params, { onprogress } = {}) {
    const id = this.#nextId++;
    const message = { jsonrpc: '2.0', id, method };
    let token;
    if (onprogress) {
      token = `p${this.#nextToken++}`;
      params = { ...params, _meta: { ...params?._meta, progressToken: token } };
      this.#progress.set(token, onprogress);
    }
    let options;
    if (this.#envelope) {
      // The 2026-07-28 envelope: the transport derives the standard headers
      // from it. Cancelling aborts the request's POST (requestSignal).
      params = {
        ...params,
        _meta: {
          ...params?._meta,
          [`${META}protocolVersion`]: MODERN_VERSION,
          [`${META}clientInfo`]: this.clientInfo,
          [`${META}clientCapabilities`]: this.capabilities,
        },
      };
      const abort = new AbortController();
      this.#aborts.set(id, abort);
      options = { requestSignal: abort.signal, headers: method === 'tools/call' ? this.#paramHeaders(params) : undefined };
    }
    if (params !== undefined) message.params = params;
    const promise = new Promise((resolve, reject) => {
      // Registered before sending: the response may arrive before send() resolves.
      this.#pending.set(id, { resolve, reject, method, token });
      this.#send(message, options).catch((err) => this.#settle(id, (p) => p.reject(err)));
    });
    promise.id = id; // for cancel()
    return promise;
  }

  // #paramHeaders returns the Mcp-Param-{Name} headers of a tools/call: one
  // per top-level argument whose schema property names an x-mcp-header,
  // encoded as the SDK encodes them. (The SDK v2 Client leaves this to the
  // caller in a page; the console does it for the user.)
  #paramHeaders({ name, arguments: args = {} }) {
    const headers = {};
    for (const [key, prop] of Object.entries(this.#tools.get(name)?.inputSchema?.properties ?? {})) {
      const header = prop?.['x-mcp-header'];
      const value = args[key];
      if (typeof header !== 'string' || value === undefined || value === null || typeof value === 'object') continue;
      headers[`Mcp-Param-${header}`] = encodeHeaderValue(String(value));
    }
    return headers;
  }

  /** Sends a notification; resolves once the server accepted it. */
  notify(method, params) {
    const message = { jsonrpc: '2.0', method };
    if (params !== undefined) message.params = params;
    return this.#send(message);
  }

  /**
   * Stops a request, and rejects it here at once. In the 2026 era that
   * aborts its POST (the server sees the stream close); in the 2025 era it
   * sends notifications/cancelled.
   */
  async cancel(id, reason = 'cancelled by the user') {
    if (!this.#pending.has(id)) return;
    const abort = this.#aborts.get(id);
    this.#settle(id, (p) => p.reject(new McpError(`request ${id} cancelled`, 'CANCELLED')));
    if (abort) {
      abort.abort(reason);
      return;
    }
    await this.notify('notifications/cancelled', { requestId: id, reason });
  }

  /** Closes the transport; every pending request is rejected. */
  async close() {
    if (this.#started) {
      this.#started = false;
      this.#expectedCloses++;
    }
    this.server = undefined;
    this.era = undefined;
    this.#envelope = false;
    this.#failAll(new McpError('the connection was closed', 'CLOSED'));
    await this.#transport.close();
  }

  /** Ends the session on the server (DELETE). The transport stays started. */
  async terminateSession() {
    await this.#transport.terminateSession();
    this.server = undefined;
  }

  async #send(message, options) {
    this.ontrace?.({ dir: 'out', message, headers: options?.headers });
    await this.#transport.send(message, 'id' in message && !('method' in message) ? { relatedRequestId: message.id } : options);
  }

  #receive(message) {
    if (Array.isArray(message)) {
      for (const m of message) this.#receive(m);
      return;
    }
    this.ontrace?.({ dir: 'in', message });
    const hasId = message.id !== undefined && message.id !== null;
    if (typeof message.method === 'string') {
      if (hasId) this.#answer(message);
      else this.#notification(message);
      return;
    }
    if (!hasId) return;
    this.#settle(message.id, (p) => {
      if (message.error) {
        const { code, message: text, data } = message.error;
        p.reject(new McpError(text ?? 'error', code, data));
      } else {
        p.resolve(message.result);
      }
    });
  }

  #notification(message) {
    if (message.method === 'notifications/progress') {
      this.#progress.get(message.params?.progressToken)?.(message.params);
    }
    this.onnotification?.(message);
  }

  // #answer runs the handler for a server→client request and sends its
  // result or error back, tied to the request it answers.
  async #answer(request) {
    const handler = this.handlers[request.method];
    let response;
    if (!handler) {
      response = { jsonrpc: '2.0', id: request.id, error: { code: METHOD_NOT_FOUND, message: `method not found: ${request.method}` } };
    } else {
      try {
        response = { jsonrpc: '2.0', id: request.id, result: await handler(request.params ?? {}, request) };
      } catch (err) {
        response = { jsonrpc: '2.0', id: request.id, error: { code: Number.isInteger(err.code) ? err.code : INTERNAL_ERROR, message: String(err.message ?? err) } };
      }
    }
    try {
      await this.#send(response);
    } catch (error) {
      this.ontrace?.({ dir: 'error', error });
    }
  }

  #settle(id, fn) {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    this.#aborts.delete(id);
    if (p.token !== undefined) this.#progress.delete(p.token);
    fn(p);
  }

  #failAll(err) {
    for (const id of [...this.#pending.keys()]) this.#settle(id, (p) => p.reject(err));
  }

  #closed() {
    if (this.#expectedCloses > 0) {
      this.#expectedCloses--;
      return;
    }
    this.#started = false;
    this.server = undefined;
    this.era = undefined;
    this.#envelope = false;
    this.#failAll(new McpError('the transport closed', 'CLOSED'));
    this.onclose?.();
  }
}

// promptElicitation is the fallback elicitation handler for pages without
// a form of their own: one window.prompt per requested field.
function promptElicitation({ message, requestedSchema }) {
  const content = {};
  for (const [name, prop] of Object.entries(requestedSchema?.properties ?? {})) {
    const answer = globalThis.prompt?.(`${message}\n\n${prop.title ?? prop.description ?? name}:`);
    if (answer === null || answer === undefined) return { action: 'decline' };
    content[name] = coerce(answer, prop.type);
  }
  return { action: 'accept', content };
}

/** Turns a text answer into the JSON type a schema property asks for. */
export function coerce(text, type) {
  switch (type) {
    case 'number': return Number(text);
    case 'integer': return Math.trunc(Number(text));
    case 'boolean': return text === true || /^(true|yes|y|1|on)$/i.test(String(text));
    default: return String(text);
  }
}

/**
 * Encodes a header value as the SDK does (SEP-2243): a value with non-ASCII
 * or control characters, or leading or trailing whitespace, travels as
 * =?base64?{its UTF-8 in base64}?=.
 */
export function encodeHeaderValue(value) {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x20-\x7e]|^\s|\s$/.test(value)) return value;
  const bytes = new TextEncoder().encode(value);
  return `=?base64?${btoa(String.fromCharCode(...bytes))}?=`;
}
