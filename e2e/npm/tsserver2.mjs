// tsserver2.mjs is an MCP 2026-07-28 server built on the official
// TypeScript SDK's second generation, @modelcontextprotocol/server 2.x: an
// McpServer per request behind the SDK's createMcpHandler, which serves the
// 2026-07-28 per-request envelope and, for 2025 clients, the SDK's stateless
// legacy fallback (no sessions; GET and DELETE answer 405). It runs on
// Node's plain http module through a small adapter to the handler's
// web-standard fetch face, as a server without a framework does.
// e2e/generations_test.go drives it from a browser page.
//
//   node e2e/npm/tsserver2.mjs [--port=N]
//
// --port (or $PORT) defaults to 0, a free port. Once listening it prints one
// line on stdout: `listening http://127.0.0.1:PORT/mcp`. It listens on
// 127.0.0.1 only, answers CORS for any origin, and exits when stdin ends,
// so it never outlives the test that started it.
//
// Tools (the same as e2e/mcpserver's stateless mode):
//   - echo {text}: answers text.
//   - slow {ms}: sleeps ms (30 s by default) or until its request is
//     cancelled, which it records.
//   - region {region, text}: answers "region=<region> text=<text>"; region
//     is marked `x-mcp-header: Region`, so a 2026 client must send it as the
//     Mcp-Param-Region header too (the SDK rejects a call without: 400,
//     -32020).
//   - cut {afterMs}: after afterMs (50 by default) breaks its own request's
//     stream: the response head and an SSE comment are sent, then the
//     socket is destroyed mid-body, as a network failure would.
//
// GET /_state returns { requests, errors }: every HTTP request the server
// saw (OPTIONS excluded), with the headers a client derives from the body,
// its status, and when the client closed it and when its tool started and
// saw the cancellation (ISO times, or null): the shape of e2e/mcpserver's
// Request, so a test reads both servers' logs alike.
import * as z from 'zod/v4';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { errorLog, readBody, serve } from './serve.mjs';

function parseArgs(argv) {
  const args = { port: Number(process.env.PORT || 0) };
  for (const a of argv) {
    const m = /^--port=(\d+)$/.exec(a);
    if (m) args.port = Number(m[1]);
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(timer);
    reject(signal.reason ?? new Error('aborted'));
  }, { once: true });
});
const now = () => new Date().toISOString();

const requests = [];
const { errors, record: recordError } = errorLog('tsserver2');
// The tools find their request's log entry by this header, which the
// adapter sets on the Request it hands the SDK.
const REQUEST_ID_HEADER = 'x-tsserver2-request';
const cutters = new Map(); // entry -> cut(), while its response is open

// entryOf returns the log entry of the request a tool serves.
function entryOf(ctx) {
  const id = Number(ctx.http?.req?.headers.get(REQUEST_ID_HEADER));
  return requests[id - 1];
}

function newServer() {
  const server = new McpServer({ name: 'esshim-ts2-server', version: '2.0.0' });
  server.registerTool('echo', {
    description: 'Answers its text argument.',
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: 'text', text }] }));

  server.registerTool('slow', {
    description: 'Sleeps ms milliseconds, or until cancelled.',
    inputSchema: { ms: z.number().optional() },
  }, async ({ ms }, ctx) => {
    const started = entryOf(ctx);
    if (started) started.toolStarted = now();
    try {
      await sleep(ms ?? 30000, ctx.mcpReq.signal);
    } catch (err) {
      const entry = entryOf(ctx);
      if (entry) entry.toolCancelled = now();
      throw err;
    }
    return { content: [{ type: 'text', text: `slept ${ms ?? 30000} ms` }] };
  });

  server.registerTool('region', {
    description: 'Answers its region, sent as the Mcp-Param-Region header too.',
    inputSchema: {
      region: z.string().meta({ 'x-mcp-header': 'Region' }),
      text: z.string().optional(),
    },
  }, async ({ region, text }) => ({ content: [{ type: 'text', text: `region=${region} text=${text ?? ''}` }] }));

  server.registerTool('cut', {
    description: 'Breaks its own response stream mid-call.',
    inputSchema: { afterMs: z.number().optional() },
  }, async ({ afterMs }, ctx) => {
    await sleep(afterMs ?? 50, ctx.mcpReq.signal);
    const cut = cutters.get(entryOf(ctx));
    if (!cut) throw new Error('cut: no stream for this request');
    cut();
    // Never answers: the stream is gone.
    await new Promise(() => {});
  });
  return server;
}

const handler = createMcpHandler(() => newServer(), {
  onerror: (err) => recordError('handler', err),
});

function describeBody(text) {
  try {
    const body = JSON.parse(text);
    const messages = Array.isArray(body) ? body : [body];
    const call = messages.find((m) => m.method === 'tools/call');
    const claim = messages.map((m) => m.params?._meta?.['io.modelcontextprotocol/protocolVersion']).find(Boolean);
    return {
      rpc: messages.map((m) => m.method || 'response').join(','),
      tool: call?.params?.name || '',
      bodyVersion: claim || '',
    };
  } catch {
    return { rpc: '', tool: '', bodyVersion: '' };
  }
}

let nextID = 0;

async function serveMCP(req, res) {
  const h = req.headers;
  const entry = {
    id: ++nextID,
    method: req.method,
    url: req.url,
    rpc: '',
    tool: '',
    bodyVersion: '',
    protocolVersion: h['mcp-protocol-version'] || '',
    mcpMethod: h['mcp-method'] || '',
    mcpName: h['mcp-name'] || '',
    sessionId: h['mcp-session-id'] || '',
    lastEventId: h['last-event-id'] || '',
    params: {},
    status: 0,
    start: now(),
    ended: null,
    clientClosed: null,
    toolStarted: null,
    toolCancelled: null,
    cut: false,
    cutAt: null,
  };
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith('mcp-param-')) {
      // Canonical names, as Go's net/http gives them: Mcp-Param-Region.
      entry.params[name.replace(/(^|-)([a-z])/g, (_, d, c) => d + c.toUpperCase())] = value;
    }
  }
  requests.push(entry);

  const body = req.method === 'POST' ? await readBody(req) : undefined;
  if (body) Object.assign(entry, describeBody(body.toString('utf8')));

  // The client's disconnect aborts the Request the SDK serves, as a
  // fetch-native runtime's would.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished && !entry.cut) {
      entry.clientClosed ??= now();
      abort.abort(new Error('the client closed the request'));
    }
    entry.ended ??= now();
    cutters.delete(entry);
  });

  const headers = new Headers();
  for (const [name, value] of Object.entries(h)) {
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  headers.set(REQUEST_ID_HEADER, String(entry.id));
  const request = new Request(`http://${h.host}${req.url}`, {
    method: req.method,
    headers,
    body,
    signal: abort.signal,
  });
  cutters.set(entry, () => {
    entry.cut = true;
    if (!res.headersSent) {
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    }
    res.write(': the server cuts this stream\n\n', () => {
      res.socket?.destroy();
      entry.cutAt = now();
    });
  });

  const response = await handler.fetch(request);
  if (res.destroyed || entry.cut) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  entry.status = response.status;
  const outHeaders = {};
  response.headers.forEach((value, name) => { outHeaders[name] = value; });
  res.writeHead(response.status, outHeaders);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  abort.signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed || entry.cut) break;
      res.write(value);
    }
  } catch (err) {
    if (!abort.signal.aborted) recordError('response body', err);
  }
  if (!res.destroyed && !entry.cut) res.end();
}

// Every Mcp-Param-* name a tool may declare is allowed: CORS echoes what
// the preflight asks for.
serve({ port: args.port, mcp: serveMCP, state: () => ({ requests, errors }), onerror: recordError });
