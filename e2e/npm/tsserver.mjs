// tsserver.mjs is an MCP server built on the official TypeScript SDK, the
// way most MCP servers are: McpServer with the SDK's
// StreamableHTTPServerTransport, stateful (one transport and one server per
// session, keyed by Mcp-Session-Id, as in the SDK's simpleStreamableHttp
// example), on Node's plain http module. e2e/tsserver_test.go drives it from
// a browser page through esshim's transport.
//
//   node e2e/npm/tsserver.mjs [--port=N] [--event-store] [--retry=MS] [--bearer=TOKEN]
//
// --port (or $PORT) defaults to 0, a free port. Once listening it prints one
// line on stdout: `listening http://127.0.0.1:PORT/mcp`. It listens on
// 127.0.0.1 only, answers CORS for any origin, and exits when stdin ends,
// so it never outlives the test that started it.
//
// --event-store gives every session the SDK's InMemoryEventStore
// (examples/shared/inMemoryEventStore.js): events carry ids, every POST SSE
// stream starts with a priming event (an id and empty data, for protocol
// 2025-11-25), streams can be resumed with Last-Event-ID, and tools get
// extra.closeSSEStream. --retry=MS sets the transport's retryInterval (the
// `retry:` field of the priming events). --bearer=TOKEN answers 401, with a
// WWW-Authenticate challenge, to every MCP request without
// `Authorization: Bearer TOKEN`, as a server behind OAuth does.
//
// Tools: echo {text}; progress {steps, intervalMs}, which sends
// notifications/progress for the request's progressToken; notify {text},
// which sends a log message outside any request, so it goes on the
// standalone GET stream; poll {steps}, which with --event-store sends one
// progress notification, closes its own SSE stream (the SDK's polling
// pattern, SEP-1699), then sends the rest and its result while the client is
// disconnected, for the client to get by resuming.
//
// GET /_state returns { requests, errors, sessions }: every HTTP request the
// server saw (OPTIONS excluded) with its status, the errors its transports
// and servers reported, and the number of live sessions. Each request and
// error is also logged on stderr.
import { randomUUID } from 'node:crypto';
import * as z from 'zod/v4';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { errorLog, readBody, rpcError, serve } from './serve.mjs';

function parseArgs(argv) {
  const args = { port: Number(process.env.PORT || 0), eventStore: false, retry: undefined, bearer: '' };
  for (const a of argv) {
    let m;
    if ((m = /^--port=(\d+)$/.exec(a))) args.port = Number(m[1]);
    else if (a === '--event-store') args.eventStore = true;
    else if ((m = /^--retry=(\d+)$/.exec(a))) args.retry = Number(m[1]);
    else if ((m = /^--bearer=(.+)$/.exec(a))) args.bearer = m[1];
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const requests = [];
const { errors, record: recordError } = errorLog('tsserver');

// The InMemoryEventStore orders events by their id, `${streamId}_${Date.now()}_${random}`,
// so two events of one stream stored within the same millisecond may be
// replayed out of order. The tools space their messages by 15 ms or more.
const GAP_MS = 15;

function newServer() {
  const server = new McpServer({ name: 'esshim-ts-server', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('echo', {
    description: 'Returns its text',
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: 'text', text }] }));

  server.registerTool('progress', {
    description: 'Sends steps progress notifications, then returns',
    inputSchema: { steps: z.number().int().min(1), intervalMs: z.number().int().min(0) },
  }, async ({ steps, intervalMs }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= steps; i++) {
      await sleep(Math.max(intervalMs, GAP_MS));
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps, message: `step ${i}` },
        });
      }
    }
    await sleep(GAP_MS);
    return { content: [{ type: 'text', text: `done after ${steps} steps` }] };
  });

  server.registerTool('notify', {
    description: 'Sends a log message on the standalone stream (no related request)',
    inputSchema: { text: z.string() },
  }, async ({ text }, extra) => {
    // McpServer.sendLoggingMessage sends without relatedRequestId: the
    // transport writes it on the session's standalone GET stream.
    await server.sendLoggingMessage({ level: 'info', logger: 'tsserver', data: text }, extra.sessionId);
    return { content: [{ type: 'text', text: 'sent' }] };
  });

  server.registerTool('poll', {
    description: 'Closes its own SSE stream mid-call (with an event store), then finishes while the client is away',
    inputSchema: { steps: z.number().int().min(2) },
  }, async ({ steps }, extra) => {
    const token = extra._meta?.progressToken;
    const progress = async (i) => {
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: steps },
        });
      }
    };
    await sleep(GAP_MS);
    await progress(1);
    await sleep(GAP_MS);
    const closed = typeof extra.closeSSEStream === 'function';
    if (closed) extra.closeSSEStream();
    for (let i = 2; i <= steps; i++) {
      await sleep(GAP_MS * 2);
      await progress(i);
    }
    await sleep(GAP_MS);
    return { content: [{ type: 'text', text: closed ? `polled ${steps} steps` : `not closed, ${steps} steps` }] };
  });
  return server;
}

const sessions = new Map(); // session id -> transport

// record notes the request and, through writeHead, the status it got.
function record(req, res) {
  const entry = {
    method: req.method,
    sessionId: req.headers['mcp-session-id'] || '',
    lastEventId: req.headers['last-event-id'] || '',
    protocolVersion: req.headers['mcp-protocol-version'] || '',
    accept: req.headers.accept || '',
    authorization: req.headers.authorization || '',
    status: 0,
    rpc: '',
  };
  requests.push(entry);
  const writeHead = res.writeHead;
  res.writeHead = function (status, ...rest) {
    entry.status = status;
    console.error(`tsserver ${entry.method} ${entry.rpc || '-'} session=${entry.sessionId || '-'} last-event-id=${entry.lastEventId || '-'} -> ${status}`);
    return writeHead.call(this, status, ...rest);
  };
  return entry;
}

async function handleMCP(req, res) {
  const entry = record(req, res);
  if (args.bearer && req.headers.authorization !== `Bearer ${args.bearer}`) {
    // As an MCP server behind OAuth answers (RFC 6750, RFC 9728).
    res.setHeader('WWW-Authenticate', 'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource"');
    rpcError(res, 401, -32001, 'Unauthorized');
    return;
  }
  const sessionId = req.headers['mcp-session-id'];
  if (req.method === 'POST') {
    let body;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (err) {
      rpcError(res, 400, -32700, 'Parse error');
      return;
    }
    entry.rpc = (Array.isArray(body) ? body : [body]).map((m) => m.method || `response ${m.id}`).join(',');
    let transport = sessionId ? sessions.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId) {
        rpcError(res, 404, -32001, 'Session not found');
        return;
      }
      if (!isInitializeRequest(body)) {
        rpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: args.eventStore ? new InMemoryEventStore() : undefined,
        retryInterval: args.retry,
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      const server = newServer();
      // server.connect wraps transport.onerror and calls server.onerror.
      server.onerror = (err) => recordError(`session ${transport.sessionId || '(new)'}`, err);
      await server.connect(transport);
    }
    await transport.handleRequest(req, res, body);
    return;
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    if (!sessionId) {
      rpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return;
    }
    const transport = sessions.get(sessionId);
    if (!transport) {
      rpcError(res, 404, -32001, 'Session not found');
      return;
    }
    await transport.handleRequest(req, res);
    return;
  }
  res.setHeader('Allow', 'GET, POST, DELETE, OPTIONS');
  rpcError(res, 405, -32000, 'Method not allowed');
}

serve({
  port: args.port,
  mcp: handleMCP,
  state: () => ({ requests, errors, sessions: sessions.size }),
  allowHeaders: 'content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id, authorization',
  onerror: recordError,
});
