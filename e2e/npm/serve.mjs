// serve.mjs is what the Node test servers (tsserver.mjs, tsserver2.mjs)
// share: an HTTP server on 127.0.0.1 only, CORS for any origin, the MCP
// endpoint at /mcp, the request log at GET /_state, one line
// `listening http://127.0.0.1:PORT/mcp` on stdout once listening, and an
// exit when stdin ends (the test holds it open), so a server never outlives
// the test that started it.
import http from 'node:http';

/** sendJSON answers with a JSON body. */
export function sendJSON(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** rpcError answers with a JSON-RPC error that answers no request. */
export function rpcError(res, status, code, message) {
  sendJSON(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

/** readBody reads a request's whole body. */
export async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * errorLog keeps the errors a server reports, for /_state, and logs each on
 * stderr (which the test copies to its log) as `<name> error <where>: <message>`.
 */
export function errorLog(name) {
  const errors = [];
  const record = (where, err) => {
    const text = `${where}: ${err && err.message ? err.message : String(err)}`;
    errors.push(text);
    console.error(`${name} error ${text}`);
  };
  return { errors, record };
}

/**
 * serve starts the server. mcp(req, res) serves /mcp; state() is the body of
 * GET /_state. allowHeaders is the CORS Access-Control-Allow-Headers value,
 * or undefined to allow whatever a preflight asks for.
 */
export function serve({ port, mcp, state, allowHeaders, onerror }) {
  const httpServer = http.createServer(async (req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', allowHeaders ?? (req.headers['access-control-request-headers'] || 'content-type'));
    res.setHeader('Access-Control-Expose-Headers', 'mcp-session-id, mcp-protocol-version, www-authenticate');
    res.setHeader('Access-Control-Max-Age', '600');
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    try {
      if (path === '/_state' && req.method === 'GET') {
        sendJSON(res, 200, state());
      } else if (path === '/mcp') {
        await mcp(req, res);
      } else {
        sendJSON(res, 404, { error: 'not found' });
      }
    } catch (err) {
      onerror(`${req.method} ${path}`, err);
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal server error');
    }
  });
  httpServer.listen(port, '127.0.0.1', () => {
    console.log(`listening http://127.0.0.1:${httpServer.address().port}/mcp`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
  return httpServer;
}
