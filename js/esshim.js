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
  go.argv = ['esshim', readyKey];
  const instance = await WebAssembly.instantiate(module, go.importObject);
  const exited = go.run(instance); // main never returns; this settles only if Go dies
  const core = await Promise.race([
    exported,
    exited.then(() => { throw codedError('INTERNAL_ERROR', 'esshim: the Go program exited during load'); }),
  ]);
  delete globalThis[readyKey];
  return makeShim(core);
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

function makeShim(core) {
  const shim = {
    version: core.version,
    openEventStream: (url, options = {}) => openEventStream(core, url, options),
    debug: {
      panic: () => call(core.debug.panic),
      panicAsync: () => call(core.debug.panicAsync),
      stats: () => call(core.debug.stats),
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
