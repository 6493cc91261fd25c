// esshim: the ES module around the Go/WebAssembly core.
//
// This file is thin on purpose: it loads the wasm, and wraps the functions
// the Go side exports into classes. Every protocol rule lives in Go. The
// build prepends Go's wasm_exec.js (from the toolchain that built the wasm),
// which defines the `Go` class used below without leaving it on globalThis.
//
// It never touches window or document, so it runs in a page, a dedicated
// worker and an extension service worker alike.

let loading;

/**
 * Loads esshim once and returns the same instance on every call.
 * @param {{ wasm?: URL | string | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module }} [options]
 */
export function load(options = {}) {
  if (!loading) {
    loading = instantiate(options).catch((err) => {
      loading = undefined; // a failed load may be retried
      throw err;
    });
  }
  return loading;
}

async function instantiate({ wasm } = {}) {
  const module = await compile(wasm ?? new URL('./esshim.wasm', import.meta.url));
  const go = new Go();
  const readyKey = '__esshim_ready_' + Math.random().toString(36).slice(2);
  const exported = new Promise((resolve) => {
    Object.defineProperty(globalThis, readyKey, { value: resolve, configurable: true });
  });
  // ESSHIM_READY is read by wasm/main.go. GOGC=25 makes the Go heap grow
  // to 1.25x its live size instead of 2x: wasm memory never shrinks, and
  // this keeps it near the live heap at no measurable CPU cost (see
  // bench/README.md). Set here, not with runtime/debug, which links os.
  go.env = { ESSHIM_READY: readyKey, GOGC: '25' };
  const instance = await WebAssembly.instantiate(module, go.importObject);
  const exited = go.run(instance); // main never returns; this settles only if Go dies
  const core = await Promise.race([
    exported,
    exited.then(() => { throw codedError('INTERNAL_ERROR', 'esshim: the Go program exited during load'); }),
  ]);
  delete globalThis[readyKey];
  return makeShim(core, instance.exports.mem);
}

async function compile(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  const response = source instanceof Response ? source : await fetch(source);
  if (!response.ok) throw codedError('HTTP_ERROR', `esshim: loading ${response.url} answered HTTP ${response.status}`, response.status);
  if (WebAssembly.compileStreaming && /^application\/wasm\b/i.test(response.headers.get('content-type') || '')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

// codedError makes the Error every esshim failure is. Its code comes from
// Go's one table (core.codes, from shim/errors.go); only the two load
// failures, before Go runs, spell theirs, and a Go test checks both names.
function codedError(code, message, status) {
  const err = new Error(message);
  err.code = code;
  if (status !== undefined) err.status = status;
  return err;
}

// call invokes a synchronous Go export and throws the Error it returns: a
// Go function cannot throw into JS, so errors (panics included) come back
// as values.
function call(fn, ...args) {
  const result = fn(...args);
  if (result instanceof Error) throw result;
  return result;
}

function makeShim(core, memory) {
  const shim = {
    version: core.version,
    codes: core.codes,
    StreamableHTTPClientTransport: transportClass(core),
    EventSource: eventSourceClass(core),
    install: (target = globalThis) => install(target, shim.EventSource),
    openEventStream: (url, options = {}) => openEventStream(core, url, options),
    debug: {
      panic: () => call(core.debug.panic),
      panicAsync: () => call(core.debug.panicAsync),
      // wasmMemory: the size of the wasm linear memory, which never shrinks.
      stats: () => ({ ...call(core.debug.stats), wasmMemory: memory.buffer.byteLength }),
    },
  };
  return Object.freeze(shim);
}

// openEventStream opens one event stream through the fetch bridge, with no
// reconnection. It is the low-level building block under EventSource and
// the transport, exposed for tools and tests.
function openEventStream(core, url, options) {
  const { onopen, onevent, ...init } = options;
  const [handle, done] = call(core.openEventStream, String(url), init, {
    open: (info) => onopen?.(info),
    events: (flat) => {
      if (!onevent) return;
      for (let i = 0; i < flat.length; i += 3) {
        onevent({ type: flat[i], data: flat[i + 1], lastEventId: flat[i + 2] });
      }
    },
  });
  let closed = false;
  return {
    done,
    close() {
      if (closed) return;
      closed = true;
      call(core.closeEventStream, handle);
    },
  };
}

// baseURL resolves relative URLs the way fetch does in pages and workers.
function baseURL() {
  return globalThis.location?.href;
}

// When a transport object is garbage collected, its Go side is closed and
// freed. The Go side holds the callbacks only through a WeakRef, so the
// object can be collected at all.
function transportClass(core) {
  const registry = new FinalizationRegistry((handle) => core.transportRelease(handle));

  /**
   * A drop-in replacement for the TypeScript SDK's StreamableHTTPClientTransport:
   * same constructor options, methods and callbacks, so `client.connect(t)` works unchanged.
   */
  return class StreamableHTTPClientTransport {
    #h;
    #url;
    #enqueue;
    // Counts close() calls, to drop callbacks queued before one. A separate
    // object, so that the callbacks Go holds do not keep `this` alive.
    #lifecycle = { generation: 0 };
    #finishAuth;

    constructor(url, options = {}) {
      try {
        this.#url = url instanceof URL ? url : new URL(String(url), baseURL());
      } catch {
        // Not the URL itself in the message: it may carry a token.
        throw codedError(core.codes.INVALID_ARGUMENT, 'esshim: the transport URL is not a valid URL');
      }
      this.onmessage = undefined;
      this.onerror = undefined;
      this.onclose = undefined;
      this.onsessionchange = undefined;
      const self = new WeakRef(this);
      const lifecycle = this.#lifecycle;
      // Every callback goes through one FIFO with a microtask hop after
      // each. The SDK's Protocol handles a notification one microtask after
      // onmessage returns but a response at once, so messages delivered in
      // one synchronous run would lose the progress notifications that
      // precede a response. Items queued before close() was called are
      // dropped, except onclose itself: nothing of a closed lifecycle
      // reaches the application after it, as in the Go core.
      const queue = [];
      let draining = false;
      const enqueue = (fn, always = false) => {
        queue.push({ fn, generation: lifecycle.generation, always });
        if (draining) return;
        draining = true;
        (async () => {
          while (queue.length) {
            const item = queue.shift();
            if (item.always || item.generation === lifecycle.generation) {
              try {
                item.fn();
              } catch (err) {
                globalThis.reportError?.(err); // an application callback threw; keep delivering
              }
            }
            await null;
          }
          draining = false;
        })();
      };
      this.#enqueue = enqueue;
      const deliver = (json) => {
        const t = self.deref();
        if (!t) return;
        let message;
        try {
          message = JSON.parse(json);
        } catch (err) {
          t.onerror?.(codedError(core.codes.INVALID_MESSAGE, `esshim: the server sent invalid JSON: ${err.message}`));
          return;
        }
        t.onmessage?.(message);
      };
      const callbacks = {
        message: (json) => enqueue(() => deliver(json)),
        messages: (text, lengths) => {
          let pos = 0;
          for (let i = 0; i < lengths.length; i++) {
            const json = text.slice(pos, pos += lengths[i]);
            enqueue(() => deliver(json));
          }
        },
        error: (err) => enqueue(() => self.deref()?.onerror?.(err)),
        close: () => enqueue(() => self.deref()?.onclose?.(), true),
        sessionchange: (newId, oldId) => enqueue(() => self.deref()?.onsessionchange?.(newId || undefined, oldId || undefined)),
      };
      const auth = authSupport(this.#url, options);
      if (auth.authorize) callbacks.authorize = auth.authorize;
      this.#finishAuth = auth.finishAuth;
      this.#h = call(core.transportNew, this.#url.href, auth.options, callbacks);
      registry.register(this, this.#h);
    }

    /** Starts a lifecycle. Rejects with ALREADY_STARTED while one is running; works again after close(). */
    async start() {
      call(core.transportStart, this.#h);
    }

    /**
     * One POST (and response stream) per request, which options.requestSignal aborts: the SDK v2's Client
     * cancels a 2026-07-28 request that way instead of sending notifications/cancelled.
     */
    get hasPerRequestStream() {
      return true;
    }

    /**
     * Sends a JSON-RPC message or batch. Resolves once the server accepted it. options: resumptionToken,
     * onresumptiontoken, requestSignal, onRequestStreamEnd, headers (the SDK's TransportSendOptions).
     */
    async send(message, options = {}) {
      let json;
      try {
        json = JSON.stringify(message);
      } catch (err) {
        // A cyclic object or a BigInt: as fetch would, but with a code.
        throw codedError(core.codes.INVALID_ARGUMENT, `esshim: send(): the message cannot be serialized as JSON: ${err.message}`);
      }
      if (typeof json !== 'string') throw codedError(core.codes.INVALID_ARGUMENT, 'esshim: send(): the message is not a JSON value');
      const end = options?.onRequestStreamEnd;
      if (typeof end === 'function') {
        // Through the callback queue, after the messages of its stream.
        options = { ...options, onRequestStreamEnd: () => this.#enqueue(end) };
      }
      const signal = options?.requestSignal;
      if (signal && !signal.aborted) {
        // Go hears of the abort in a microtask, not inside the abort event: the SDK's Client aborts the signal
        // and then rejects the call, and that rejection is queued before Go runs. Not a task (setTimeout): on a
        // busy page a task can wait a second behind others, and the server would see the disconnect that late.
        const relay = new AbortController();
        signal.addEventListener('abort', () => queueMicrotask(() => relay.abort()), { once: true });
        options = { ...options, requestSignal: relay.signal };
      }
      return call(core.transportSend, this.#h, json, options);
    }

    /**
     * Completes the OAuth flow after the user authorized (the SDK's finishAuth): exchanges the authorization
     * code (or the callback's URLSearchParams) for tokens with the SDK's auth(). Connect a transport again then.
     */
    async finishAuth(authorizationCode, iss) {
      if (!this.#finishAuth) throw unauthorized(undefined, 'finishAuth requires an authProvider');
      return this.#finishAuth(authorizationCode, iss);
    }

    /** Ends the lifecycle; resolves once every fetch is aborted and every timer cancelled. Idempotent. */
    async close() {
      this.#lifecycle.generation++;
      return call(core.transportClose, this.#h);
    }

    /** Ends the session on the server with DELETE; resolves on 200, 204, 404 and 405. */
    async terminateSession() {
      return call(core.transportTerminate, this.#h);
    }

    get sessionId() {
      return call(core.transportSessionId, this.#h) || undefined;
    }

    get protocolVersion() {
      return call(core.transportProtocolVersion, this.#h) || undefined;
    }

    setProtocolVersion(version) {
      call(core.transportSetProtocolVersion, this.#h, String(version));
    }

    /** The connection manager's state, for tools and tests. */
    snapshot() {
      const s = call(core.transportSnapshot, this.#h);
      s.inflight = s.inflight.map((id) => JSON.parse(id));
      return s;
    }
  };
}

// authSupport makes the SDK's `authProvider` option work as the SDK's own
// transport does. It takes both shapes: a v2 AuthProvider, whose token()
// is asked before every request and whose onUnauthorized() answers a 401,
// or an OAuthClientProvider (the only shape of SDK v1), whose tokens() are
// sent and whose flow is the SDK's own auth(): esshim does not reimplement
// OAuth, it calls the functions of the SDK module the application passes
// as `sdkAuth` (v1: `@modelcontextprotocol/sdk/client/auth.js`, v2: the
// `@modelcontextprotocol/client` package itself), so that discovery,
// registration, PKCE, refresh and issuer validation are exactly the SDK's
// and its errors are its own classes. The token goes out as a Bearer token
// after the application's own headers() hook.
//
// The Go core decides when the flow runs (a 401 once per request, a 403
// insufficient_scope up to maxStepUpRetries) and what follows; this only
// answers its authorize(challenge) question. State the SDK keeps on its
// transport (the resource metadata URL and the scope seen in challenges)
// is kept here, per transport, as the SDK keeps it.
function authSupport(url, options) {
  const provider = options?.authProvider;
  if (!provider) return { options };
  const sdk = options.sdkAuth;
  // SDK v2's isOAuthClientProvider: tokens() and clientInformation().
  const oauth = typeof provider.tokens === 'function' && typeof provider.clientInformation === 'function' ? provider : undefined;
  const token = typeof provider.token === 'function' && !oauth ? () => provider.token()
    : typeof provider.tokens === 'function' ? async () => (await provider.tokens())?.access_token
      : undefined;
  const userHeaders = options.headers;
  const wrapped = !token ? options : {
    ...options,
    headers: async () => {
      const headers = typeof userHeaders === 'function' ? { ...(await userHeaders()) } : {};
      const value = await token();
      if (value) headers.Authorization = `Bearer ${value}`;
      return headers;
    },
  };
  const state = { resourceMetadataUrl: undefined, scope: undefined };
  const authOptions = (signal) => ({
    serverUrl: url,
    resourceMetadataUrl: state.resourceMetadataUrl,
    scope: state.scope,
    fetchFn: authFetch(url, options, signal),
    skipIssuerMetadataValidation: options.skipIssuerMetadataValidation,
  });
  const runAuth = async (extra, signal) => {
    const result = await sdk.auth(oauth, { ...authOptions(signal), ...extra });
    if (result !== 'AUTHORIZED') throw unauthorized(sdk);
  };
  const authorize = async (c) => {
    try {
      const challenge = challengeParams(sdk, c);
      if (c.kind === 'unauthorized') {
        if (challenge.header) {
          state.resourceMetadataUrl = challenge.resourceMetadataUrl;
          state.scope = union(sdk, state.scope, challenge.scope);
        }
        if (typeof provider.onUnauthorized === 'function' && !oauth) {
          await provider.onUnauthorized({ response: challengeResponse(c), serverUrl: url, fetchFn: authFetch(url, options, c.signal) });
          return;
        }
        if (!oauth) throw unauthorized(sdk, `Unauthorized: the server answered HTTP ${c.status} to ${c.method}, and the authProvider has no onUnauthorized()`);
        needModule(sdk, c);
        await runAuth({}, c.signal);
        return;
      }
      // A 403 insufficient_scope: step-up, as the SDK v2 does it.
      const scopeError = () => sdk?.InsufficientScopeError
        ? new sdk.InsufficientScopeError({ requiredScope: challenge.scope, resourceMetadataUrl: challenge.resourceMetadataUrl, errorDescription: challenge.errorDescription })
        : Object.assign(codedError('HTTP_ERROR', `Insufficient scope${challenge.scope ? `: required "${challenge.scope}"` : ''}`, 403), { name: 'InsufficientScopeError', requiredScope: challenge.scope });
      if (c.kind === 'insufficient-scope' || !oauth) throw scopeError();
      needModule(sdk, c);
      if (challenge.resourceMetadataUrl) state.resourceMetadataUrl = challenge.resourceMetadataUrl;
      const tokens = await oauth.tokens();
      // SDK v1 has no scope union: it asks for the challenged scope.
      const scope = sdk.computeScopeUnion ? sdk.computeScopeUnion(state.scope, tokens?.scope, challenge.scope) : (challenge.scope ?? state.scope);
      state.scope = scope;
      const forceReauthorization = sdk.isStrictScopeSuperset ? sdk.isStrictScopeSuperset(scope, tokens?.scope) : undefined;
      await runAuth({ scope, forceReauthorization }, c.signal);
    } catch (err) {
      throw authSeamEscape(err);
    }
  };
  const finishAuth = async (codeOrParams, iss) => {
    try {
      if (!oauth) throw unauthorized(sdk, 'finishAuth requires an OAuthClientProvider');
      needModule(sdk);
      let code = codeOrParams;
      if (typeof codeOrParams !== 'string') {
        code = codeOrParams?.get?.('code');
        iss = codeOrParams?.get?.('iss') ?? undefined;
        const error = codeOrParams?.get?.('error');
        if (!code && error && sdk.OAuthError) throw new sdk.OAuthError(error, codeOrParams.get('error_description') ?? error);
        if (!code) throw unauthorized(sdk, 'Authorization callback contained neither `code` nor `error`');
      }
      const extra = { authorizationCode: code };
      if (iss !== undefined) extra.iss = iss;
      const result = await sdk.auth(oauth, { ...authOptions(), ...extra });
      if (result !== 'AUTHORIZED') throw unauthorized(sdk, 'Failed to authorize');
    } catch (err) {
      throw authSeamEscape(err);
    }
  };
  return { options: wrapped, authorize, finishAuth };
}

// needModule fails the flow when an OAuthClientProvider came without the
// SDK's auth module: the error says what to pass. Without it the request
// fails as before the flow existed, with HTTP_ERROR and the status.
function needModule(sdk, c) {
  if (typeof sdk?.auth === 'function') return;
  const err = codedError('HTTP_ERROR', (c ? `the server answered HTTP ${c.status} to ${c.method}; ` : '')
    + "esshim runs the OAuth flow of an OAuthClientProvider with the SDK's own auth(): pass the SDK's auth module as the `sdkAuth` option "
    + "(v1: import * as sdkAuth from '@modelcontextprotocol/sdk/client/auth.js'; v2: import * as sdkAuth from '@modelcontextprotocol/client')", c?.status);
  err.name = 'UnauthorizedError';
  throw err;
}

function unauthorized(sdk, message) {
  if (typeof sdk?.UnauthorizedError === 'function') return new sdk.UnauthorizedError(message);
  const err = codedError('HTTP_ERROR', message ?? 'Unauthorized', 401);
  err.name = 'UnauthorizedError';
  return err;
}

// authSeamEscape stamps an error that escaped the auth flow the way the
// SDK v2 does (a Symbol.for brand), so that its Client recognizes it
// during version negotiation, whichever bundle threw it.
function authSeamEscape(err) {
  if ((typeof err === 'object' && err !== null) || typeof err === 'function') {
    try {
      Object.defineProperty(err, Symbol.for('mcp.authSeamEscape'), { value: true, configurable: true });
    } catch { /* frozen: identity outranks provenance, as in the SDK */ }
  }
  return err;
}

function union(sdk, ...scopes) {
  if (typeof sdk?.computeScopeUnion === 'function') return sdk.computeScopeUnion(...scopes);
  return scopes.filter(Boolean).pop(); // SDK v1: the latest challenge's scope
}

// challengeResponse rebuilds the refused response for the SDK's
// onUnauthorized({ response }): status and WWW-Authenticate, no body.
function challengeResponse(c) {
  const headers = c.wwwAuthenticate ? { 'www-authenticate': c.wwwAuthenticate } : {};
  return new Response(null, { status: c.status, statusText: c.statusText, headers });
}

function challengeParams(sdk, c) {
  const response = challengeResponse(c);
  const params = typeof sdk?.extractWWWAuthenticateParams === 'function' ? sdk.extractWWWAuthenticateParams(response) : {};
  return { ...params, header: Boolean(c.wwwAuthenticate) };
}

// authFetch is the fetchFn the SDK's auth() gets: the application's fetch
// (or the global one), with requestInit only toward the MCP server's own
// origin, since the application's headers are credentials that never go
// to another origin (the SDK sends them to the authorization server too).
// A request that carries credentials (an Authorization header, a client
// secret in its body) never follows a redirect: a cross-origin redirect
// would hand them to another origin, and a page cannot follow only
// same-origin redirects (a manual redirect is opaque). Discovery, which
// carries none, follows redirects as fetch does. signal ends the flow's
// fetches when the transport stops waiting for it (close()).
function authFetch(url, options, signal) {
  const base = options.fetch ?? ((...args) => fetch(...args));
  const origin = new URL(url).origin;
  return async (input, init = {}) => {
    const target = new URL(input instanceof Request ? input.url : String(input), url);
    let merged = { ...init };
    if (target.origin === origin && options.requestInit) {
      const headers = new Headers(options.requestInit.headers);
      new Headers(init.headers).forEach((v, k) => headers.set(k, v));
      merged = { ...options.requestInit, ...init, headers };
    }
    const headers = new Headers(merged.headers);
    const body = typeof merged.body === 'string' ? merged.body : merged.body instanceof URLSearchParams ? merged.body.toString() : '';
    if (headers.has('authorization') || /(^|&)client_secret=/.test(body)) merged.redirect = 'error';
    if (signal) merged.signal = merged.signal ? AbortSignal.any([merged.signal, signal]) : signal;
    return base(input, merged);
  };
}

const CONNECTING = 0, OPEN = 1, CLOSED = 2;
const NO_CHANGE = 0xFFFFFFFF;

// queueTask runs fn in a task of its own, after every task queued before
// it. A MessageChannel gives a real task without setTimeout's clamping, in
// pages and workers alike.
const taskQueue = [];
let taskChannel;
function queueTask(fn) {
  if (!taskChannel) {
    taskChannel = new MessageChannel();
    taskChannel.port1.onmessage = () => taskQueue.shift()?.();
  }
  taskQueue.push(fn);
  taskChannel.port2.postMessage(null);
}

function eventSourceClass(core) {
  /**
   * A spec-exact EventSource (WHATWG HTML §9.2) with extensions: method,
   * headers, body, a custom fetch, reconnection options, and connections
   * shared between instances with the same URL, headers and credentials.
   */
  class EventSource extends EventTarget {
    static CONNECTING = CONNECTING;
    static OPEN = OPEN;
    static CLOSED = CLOSED;

    #h;
    #url;
    #withCredentials;
    #readyState = CONNECTING;
    #origin = '';
    // The event handlers (onopen, onmessage, onerror): by type, the value
    // set and the listener that calls it, added when a value is first set
    // so that it runs in its place among the other listeners (HTML, "event
    // handlers").
    #handlers = {};

    constructor(url, init = undefined) {
      super();
      if (init === undefined || init === null) init = {};
      else if (typeof init !== 'object' && typeof init !== 'function') {
        throw new TypeError("Failed to construct 'EventSource': The provided value is not of type 'EventSourceInit'.");
      }
      let resolved;
      try {
        resolved = new URL(String(url), baseURL());
      } catch {
        throw new DOMException(`Failed to construct 'EventSource': The URL '${url}' is invalid.`, 'SyntaxError');
      }
      this.#url = resolved.href;
      this.#withCredentials = Boolean(init.withCredentials);
      // Go runs these callbacks whenever it has control, which can be in
      // the middle of any call into esshim, this constructor included. So
      // each one only queues a task, as the spec queues one, in order.
      this.#h = call(core.eventSourceOpen, this.#url, init, {
        open: (origin) => queueTask(() => {
          if (this.#readyState === CLOSED) return;
          this.#origin = origin;
          this.#readyState = OPEN;
          this.dispatchEvent(new Event('open'));
        }),
        events: (text, lengths) => queueTask(() => {
          let pos = 0, type, lastEventId;
          const origin = this.#origin;
          for (let i = 0; i < lengths.length && this.#readyState !== CLOSED; i += 3) {
            if (lengths[i] !== NO_CHANGE) type = text.slice(pos, pos += lengths[i]);
            const data = text.slice(pos, pos += lengths[i + 1]);
            if (lengths[i + 2] !== NO_CHANGE) lastEventId = text.slice(pos, pos += lengths[i + 2]);
            this.dispatchEvent(new MessageEvent(type, { data, lastEventId, origin }));
          }
        }),
        // ran tells Go that the task has run: it must not reconnect before,
        // so that close() in an error handler prevents the next request.
        error: (state, ran) => queueTask(() => {
          try {
            if (this.#readyState === CLOSED) return;
            this.#readyState = state;
            this.dispatchEvent(new Event('error'));
          } finally {
            ran?.();
          }
        }),
      });
    }

    get url() { return this.#url; }
    get withCredentials() { return this.#withCredentials; }
    get readyState() { return this.#readyState; }
    get CONNECTING() { return CONNECTING; }
    get OPEN() { return OPEN; }
    get CLOSED() { return CLOSED; }

    get onopen() { return this.#handler('open'); }
    set onopen(fn) { this.#setHandler('open', fn); }
    get onmessage() { return this.#handler('message'); }
    set onmessage(fn) { this.#setHandler('message', fn); }
    get onerror() { return this.#handler('error'); }
    set onerror(fn) { this.#setHandler('error', fn); }

    #handler(type) { return this.#handlers[type]?.value ?? null; }

    // #setHandler follows HTML's event handler IDL attributes: a non-object
    // is null; the first non-null value adds the listener, a later one only
    // replaces the value it calls (keeping its place), and null removes it.
    #setHandler(type, value) {
      if ((typeof value !== 'object' && typeof value !== 'function') || value === null) value = null;
      const h = this.#handlers[type];
      if (value === null) {
        if (h) this.removeEventListener(type, h.listener);
        delete this.#handlers[type];
      } else if (h) {
        h.value = value;
      } else {
        const entry = { value, listener: (ev) => {
          if (typeof entry.value === 'function') entry.value.call(this, ev);
          else globalThis.reportError?.(new TypeError(`The on${type} handler is not a function`));
        } };
        this.#handlers[type] = entry;
        this.addEventListener(type, entry.listener);
      }
    }

    /** Cancels the pending reconnect timer and the in-flight fetch. Safe inside an event handler. */
    close() {
      if (this.#readyState === CLOSED) return;
      this.#readyState = CLOSED;
      call(core.eventSourceClose, this.#h);
    }
  }
  return EventSource;
}

// install replaces target.EventSource with esshim's; the function it
// returns restores what was there before.
function install(target, EventSourceClass) {
  const had = Object.prototype.hasOwnProperty.call(target, 'EventSource');
  const previous = target.EventSource;
  target.EventSource = EventSourceClass;
  let done = false;
  return function uninstall() {
    if (done) return;
    done = true;
    if (had) target.EventSource = previous;
    else delete target.EventSource;
  };
}
