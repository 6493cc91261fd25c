// A minimal MCP client over any Transport with the TypeScript SDK's shape
// (start, send, close, terminateSession, setProtocolVersion, onmessage,
// onerror, onclose). It does the handshake by hand so that the console can
// show every message, and so that the page needs no SDK and no build step.

/** The protocol revisions this client speaks, newest first. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];

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

  constructor(transport, { clientInfo, capabilities, handlers = {}, onnotification, ontrace, onclose } = {}) {
    this.#transport = transport;
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
   * Starts the transport and runs the handshake: initialize, its result,
   * setProtocolVersion, notifications/initialized. Resolves with the
   * initialize result.
   */
  async connect() {
    await this.#transport.start();
    this.#started = true;
    try {
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
      this.server = result;
      return result;
    } catch (err) {
      await this.close();
      throw err;
    }
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
    if (params !== undefined) message.params = params;
    const promise = new Promise((resolve, reject) => {
      // Registered before sending: the response may arrive before send() resolves.
      this.#pending.set(id, { resolve, reject, method, token });
      this.#send(message).catch((err) => this.#settle(id, (p) => p.reject(err)));
    });
    promise.id = id; // for cancel()
    return promise;
  }

  /** Sends a notification; resolves once the server accepted it. */
  notify(method, params) {
    const message = { jsonrpc: '2.0', method };
    if (params !== undefined) message.params = params;
    return this.#send(message);
  }

  /** Asks the server to stop a request, and rejects it here at once. */
  async cancel(id, reason = 'cancelled by the user') {
    if (!this.#pending.has(id)) return;
    this.#settle(id, (p) => p.reject(new McpError(`request ${id} cancelled`, 'CANCELLED')));
    await this.notify('notifications/cancelled', { requestId: id, reason });
  }

  /** Closes the transport; every pending request is rejected. */
  async close() {
    if (this.#started) {
      this.#started = false;
      this.#expectedCloses++;
    }
    this.server = undefined;
    this.#failAll(new McpError('the connection was closed', 'CLOSED'));
    await this.#transport.close();
  }

  /** Ends the session on the server (DELETE). The transport stays started. */
  async terminateSession() {
    await this.#transport.terminateSession();
    this.server = undefined;
  }

  async #send(message) {
    this.ontrace?.({ dir: 'out', message });
    await this.#transport.send(message, 'id' in message && !('method' in message) ? { relatedRequestId: message.id } : undefined);
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
