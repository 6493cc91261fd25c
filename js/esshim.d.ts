// Type declarations for esshim's ES module (dist/esshim.js).

/**
 * The error codes: exactly the table in shim/errors.go (a Go test checks it). The README's error table says
 * which operation gives which code.
 */
export type ErrorCode =
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
  | 'INTERNAL_ERROR'
  | 'INVALID_ARGUMENT'
  | 'INVALID_MESSAGE'
  | 'INVALID_HEADER'
  | 'HEADERS_HOOK_FAILED'
  | 'REDIRECT_BLOCKED'
  | 'CORS_BLOCKED';

/** Every error esshim throws, rejects with or reports carries a string code. */
export interface EsshimError extends Error {
  code: ErrorCode;
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
  /** Sent as Last-Event-ID; also the last event ID the stream starts from. */
  lastEventId?: string;
}

export interface EventStreamHandle {
  /** Resolves when the stream ends (reason 'end') or is closed (reason 'closed'); rejects with an EsshimError. */
  done: Promise<{ reason: 'end' | 'closed'; lastEventId: string; retry: number | null }>;
  /** Aborts the request; the server sees the disconnect at once. Idempotent. */
  close(): void;
}

/** A JSON-RPC 2.0 message, as the MCP TypeScript SDK's JSONRPCMessage. */
export type JSONRPCMessage = { jsonrpc: '2.0'; [key: string]: unknown };

/** The TypeScript SDK's reconnectionOptions. */
export interface ReconnectionOptions {
  /** Delay before the first reconnect of a stream that set no `retry`, in ms. Default 1000. */
  initialReconnectionDelay?: number;
  /** Cap on the delay, in ms. Default 30000. */
  maxReconnectionDelay?: number;
  /** Growth per attempt without progress. Default 1.5. */
  reconnectionDelayGrowFactor?: number;
  /** Attempts without progress before RECONNECT_EXHAUSTED. Default 2 for the transport, Infinity for EventSource. */
  maxRetries?: number;
}

/**
 * The SDK v2's reconnectionScheduler: called instead of a timer for each reconnect of a stream. Call `reconnect`
 * after about `delay` ms; return a function that cancels it, which close() calls. `attemptCount` counts from 0.
 */
export type ReconnectionScheduler = (reconnect: () => void, delay: number, attemptCount: number) => (() => void) | void;

export interface StreamableHTTPClientTransportOptions {
  /** Applied to every request (POST, GET, DELETE): headers, credentials, mode, cache, … */
  requestInit?: RequestInit;
  /** A fetch to use instead of globalThis.fetch. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Resume a known session (first lifecycle only). */
  sessionId?: string;
  protocolVersion?: string;
  reconnectionOptions?: ReconnectionOptions;
  /** Awaited before every request, e.g. for a fresh auth token. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /**
   * The SDK's `authProvider`: an `OAuthClientProvider` (both SDK generations) or a v2 `AuthProvider`
   * (`token()`, `onUnauthorized()`). Its token goes out as `Authorization: Bearer …` (after `headers()`).
   * A 401 runs the flow once per request (`onUnauthorized`, or the SDK's `auth()` for an
   * `OAuthClientProvider`, which needs `sdkAuth`), a 403 `insufficient_scope` steps up. README, "OAuth".
   */
  authProvider?: AuthProviderLike | OAuthClientProviderLike;
  /**
   * The SDK's auth module, for an `OAuthClientProvider`: v1 `import * as sdkAuth from
   * '@modelcontextprotocol/sdk/client/auth.js'`, v2 `import * as sdkAuth from '@modelcontextprotocol/client'`.
   * esshim calls its `auth()` and throws its error classes. Without it a 401 is an `HTTP_ERROR`.
   */
  sdkAuth?: { auth: (provider: any, options: any) => Promise<'AUTHORIZED' | 'REDIRECT'>; [name: string]: any };
  /** SDK v2: what a 403 `insufficient_scope` does. Default 'reauthorize'. */
  onInsufficientScope?: 'reauthorize' | 'throw';
  /** SDK v2: step-up re-authorizations per request. Default 1. */
  maxStepUpRetries?: number;
  /** SDK v2: accept authorization server metadata whose issuer does not match (RFC 8414 §3.3). */
  skipIssuerMetadataValidation?: boolean;
  /** SDK v2 option: schedules each reconnect instead of a timer. */
  reconnectionScheduler?: ReconnectionScheduler;
  /** What a 404 to a request that carried the session id does. Default 'error'. */
  sessionExpiry?: 'error' | 'reinitialize';
  /**
   * The SDK's redirectPolicy. 'same-origin' (default): a redirect is followed only within the endpoint's
   * origin, where the target can be seen (never in a browser, which hides it); any other fails with
   * REDIRECT_BLOCKED and nothing reaches its target. 'follow': fetch follows redirects of requests that carry
   * no session id, Last-Event-ID or application header; those are treated as under 'same-origin'.
   */
  redirectPolicy?: 'same-origin' | 'follow';
  /** Largest SSE event in bytes. Default 16 MiB. */
  maxEventSize?: number;
}

/** The part of the SDK's `OAuthTokens` that esshim reads. */
export interface OAuthTokensLike {
  access_token: string;
  scope?: string;
}

/**
 * The SDK v2's AuthProvider: `token()` is asked before every request and sent as `Authorization: Bearer …`;
 * `onUnauthorized()` answers a 401, then the request is sent again once.
 */
export interface AuthProviderLike {
  token(): string | undefined | Promise<string | undefined>;
  onUnauthorized?(ctx: { response: Response; serverUrl: URL; fetchFn: typeof fetch }): Promise<void>;
}

/** The SDK's `OAuthClientProvider`, as far as esshim tells it apart; the SDK's auth() uses the rest. */
export interface OAuthClientProviderLike {
  tokens(): OAuthTokensLike | undefined | Promise<OAuthTokensLike | undefined>;
  clientInformation(): unknown;
  [name: string]: any;
}

export interface TransportSendOptions {
  /** Resume a stream by GET with this Last-Event-ID instead of POSTing (2025 era; a 2026 request is POSTed). */
  resumptionToken?: string;
  /** Called with every event id seen for this message's stream. */
  onresumptiontoken?: (token: string) => void;
  relatedRequestId?: string | number;
  /**
   * Aborts this request alone: its POST and response stream end at once (the server sees the disconnect, which
   * cancels a 2026-07-28 request), send() rejects with ABORTED if not settled yet, nothing reaches onerror, and
   * the transport stays usable.
   */
  requestSignal?: AbortSignal;
  /**
   * Called once after send() resolved, when this request's stream or response ends for any reason other than
   * its requestSignal or close(): the server closed it, the network dropped it, reconnects ran out.
   */
  onRequestStreamEnd?: () => void;
  /**
   * Headers for this request only (e.g. `Mcp-Param-*`). Sent verbatim, except the names the transport owns,
   * which are ignored: Authorization, DPoP, Content-Type, Accept, Last-Event-ID, Mcp-Session-Id,
   * MCP-Protocol-Version, Mcp-Method, Mcp-Name.
   */
  headers?: Readonly<Record<string, string>>;
}

export interface StreamSnapshot {
  id: number;
  kind: 'post' | 'standalone' | 'resume';
  state: string;
  lastEventId: string;
  reconnects: number;
  events: number;
}

export interface TransportSnapshot {
  /** Counts start() calls: each lifecycle has its own number. */
  lifecycle: number;
  /** The protocol generation of the transport's protocol version: 'modern' from 2026-07-28 on. */
  era: 'legacy' | 'modern';
  sessionId?: string;
  streams: StreamSnapshot[];
  /** Ids of the requests still waiting for an outcome. */
  inflight: Array<string | number>;
  /** Pending timers of this transport. */
  timers: number;
  /** Live goroutines of this transport. */
  transportGoroutines: number;
  /** Live goroutines of the whole Go program. */
  goroutines: number;
  /** js.Funcs not yet released, program-wide. */
  funcs: number;
  /** JS promises Go is waiting for (fetches, body reads, headers hooks). */
  awaits: number;
}

/**
 * Drop-in for the StreamableHTTPClientTransport of both TypeScript SDK generations: it assigns to the `Transport`
 * of `@modelcontextprotocol/sdk` 1.x and of `@modelcontextprotocol/client` 2.x.
 */
export declare class StreamableHTTPClientTransport {
  constructor(url: string | URL, options?: StreamableHTTPClientTransportOptions);
  /** One POST (and response stream) per request, which `requestSignal` aborts. */
  readonly hasPerRequestStream: true;
  start(): Promise<void>;
  send(message: JSONRPCMessage | JSONRPCMessage[], options?: TransportSendOptions): Promise<void>;
  close(): Promise<void>;
  terminateSession(): Promise<void>;
  /** Completes the OAuth flow on the callback page: the authorization code, or the callback's URLSearchParams. */
  finishAuth(authorizationCode: string | URLSearchParams, iss?: string): Promise<void>;
  readonly sessionId: string | undefined;
  readonly protocolVersion: string | undefined;
  setProtocolVersion(version: string): void;
  onmessage?: (message: JSONRPCMessage, extra?: unknown) => void;
  /**
   * Every error esshim reports here is an EsshimError. The parameter admits any Error, so that the
   * transport stays assignable to the SDKs' `Transport` (whose `onerror` takes an `Error`).
   */
  onerror?: (error: Error & Partial<Pick<EsshimError, 'code' | 'status'>>) => void;
  onclose?: () => void;
  /** Called when the session id changes under a running lifecycle (sessionExpiry 'reinitialize'). */
  onsessionchange?: (newId: string | undefined, oldId: string | undefined) => void;
  snapshot(): TransportSnapshot;
}

export interface EsshimEventSourceInit extends EventSourceInit {
  /** HTTP method (extension). Default GET. */
  method?: string;
  /** Request headers (extension). */
  headers?: HeadersInit;
  /** Request body (extension). */
  body?: string | ArrayBuffer | ArrayBufferView;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  reconnectionOptions?: ReconnectionOptions;
  /** Share one connection with other instances of the same URL, headers and credentials. Default true. */
  shared?: boolean;
  maxEventSize?: number;
}

/** A spec-exact EventSource with POST, headers and shared connections. */
export declare class EventSource extends EventTarget {
  constructor(url: string | URL, init?: EsshimEventSourceInit | null);
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  readonly url: string;
  readonly withCredentials: boolean;
  /** CONNECTING (0), OPEN (1) or CLOSED (2); typed as the DOM's, so that either class stands for the other. */
  readonly readyState: number;
  onopen: ((this: EventSource, ev: Event) => any) | null;
  onmessage: ((this: EventSource, ev: MessageEvent<string>) => any) | null;
  onerror: ((this: EventSource, ev: Event) => any) | null;
  close(): void;
  // The DOM's overloads, so that code written for the DOM's EventSource takes this one.
  addEventListener<K extends keyof EventSourceEventMap>(type: K, listener: (this: EventSource, ev: EventSourceEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: (this: EventSource, event: MessageEvent<string>) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof EventSourceEventMap>(type: K, listener: (this: EventSource, ev: EventSourceEventMap[K]) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: (this: EventSource, event: MessageEvent<string>) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export interface Esshim {
  readonly version: string;
  /** The error-code table: every code, mapped to itself. */
  readonly codes: Readonly<Record<ErrorCode, ErrorCode>>;
  readonly StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport;
  readonly EventSource: typeof EventSource;
  /** Replaces target.EventSource (default globalThis) with esshim's; returns a function that restores it. */
  install(target?: object): () => void;
  /** One event stream through the fetch bridge, without reconnection. */
  openEventStream(url: string | URL, options?: OpenEventStreamOptions): EventStreamHandle;
  /** Hooks for tests: not part of the stable API. */
  readonly debug: {
    panic(): never;
    panicAsync(): Promise<never>;
    stats(): { goroutines: number; funcs: number; awaits: number; /** bytes of wasm linear memory, which never shrinks */ wasmMemory: number };
  };
}

/** Loads esshim once; later calls return the same instance. */
export function load(options?: LoadOptions): Promise<Esshim>;
