// Type declarations for esshim's ES module (dist/esshim.js).

/** Every error esshim throws, rejects with or reports carries a string code. */
export interface EsshimError extends Error {
  code:
    | 'HTTP_ERROR'
    | 'UNEXPECTED_CONTENT_TYPE'
    | 'ALREADY_STARTED'
    | 'NOT_STARTED'
    | 'NETWORK_ERROR'
    | 'RECONNECT_EXHAUSTED'
    | 'EVENT_TOO_LARGE'
    | 'SESSION_EXPIRED'
    | 'CLOSED'
    | 'ABORTED'
    | 'INVALID_ARGUMENT'
    | 'INTERNAL_ERROR';
  /** The HTTP status, where a response was involved. */
  status?: number;
}

export interface LoadOptions {
  /** Where to get the wasm. Default: esshim.wasm next to this module. */
  wasm?: URL | string | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module;
}

/** One dispatched server-sent event. */
export interface StreamEvent {
  type: string;
  data: string;
  lastEventId: string;
}

export interface OpenEventStreamOptions {
  method?: string;
  headers?: HeadersInit;
  body?: string | ArrayBuffer | ArrayBufferView;
  credentials?: RequestCredentials;
  mode?: RequestMode;
  /** A fetch to use instead of globalThis.fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Largest event (data plus current line) in bytes; default 16 MiB. */
  maxEventSize?: number;
  onopen?: (info: { status: number; url: string }) => void;
  onevent?: (event: StreamEvent) => void;
}

export interface EventStreamHandle {
  /** Resolves when the stream ends (reason 'end') or is closed (reason 'closed'); rejects with an EsshimError. */
  done: Promise<{ reason: 'end' | 'closed'; lastEventId: string; retry: number | null }>;
  /** Aborts the request; the server sees the disconnect at once. Idempotent. */
  close(): void;
}

export interface Esshim {
  readonly version: string;
  /** One event stream through the fetch bridge, without reconnection. */
  openEventStream(url: string | URL, options?: OpenEventStreamOptions): EventStreamHandle;
  /** Hooks for tests: not part of the stable API. */
  readonly debug: {
    panic(): never;
    panicAsync(): Promise<never>;
    stats(): { goroutines: number; funcs: number };
  };
}

/** Loads esshim once; later calls return the same instance. */
export function load(options?: LoadOptions): Promise<Esshim>;
