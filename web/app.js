// The demo page: an MCP console on esshim's StreamableHTTPClientTransport,
// with the connection manager's state shown live, and a raw event stream
// through the fetch bridge.
import { load } from '/dist/esshim.js';
import { McpClient } from './mcp-client.js';

const $ = (id) => document.getElementById(id);

// el builds an element; text children are always text, never HTML, since
// most of what the page shows comes from the server.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

const json = (v) => JSON.stringify(v, null, 2);
const clock = () => new Date().toISOString().slice(11, 23);

let shim;
try {
  shim = await load();
} catch (err) {
  globalThis.loadError = String(err?.stack ?? err);
  $('version').textContent = 'esshim failed to load';
  throw err;
}
$('version').textContent = `v${shim.version}`;

// ---------------------------------------------------------------- console state

let transport; // the StreamableHTTPClientTransport, kept across restarts
let transportURL;
let client;
let tools = [];
let selected; // the selected tool
let call; // the tool call under way: { id, promise }

const states = {
  disconnected: { connect: true },
  connecting: { disconnect: true },
  connected: { disconnect: true, terminate: true, restart: true },
  terminated: { connect: true, disconnect: true, restart: true },
  error: { connect: true, disconnect: true, restart: true },
};

function setState(state, text) {
  const status = $('mcp-status');
  status.dataset.state = state;
  status.textContent = text ?? state;
  const on = states[state];
  $('mcp-connect').disabled = !on.connect;
  $('mcp-disconnect').disabled = !on.disconnect;
  // A 2026-07-28 connection has no session to terminate.
  $('mcp-terminate').disabled = !on.terminate || client?.era === 'modern';
  $('mcp-restart').disabled = !on.restart || !client;
  renderEra(state === 'connected' ? client?.era : undefined);
  const live = state === 'connected';
  $('tool-call').disabled = !live || !selected || Boolean(call);
  $('tool-args').disabled = !live || !selected;
  renderSnapshot(); // at once, not at the next poll
}

function describe(err) {
  if (!err) return 'unknown error';
  const parts = [];
  if (err.code !== undefined) parts.push(String(err.code));
  if (err.status !== undefined) parts.push(`HTTP ${err.status}`);
  parts.push(err.message ?? String(err));
  return parts.join(' · ');
}

// renderEra shows the negotiated protocol era of the connection.
function renderEra(era) {
  const badge = $('mcp-era');
  badge.dataset.era = era ?? 'none';
  badge.textContent = {
    modern: `2026-07-28 · stateless: no session, no GET stream; cancel aborts the POST`,
    legacy: `2025 (${client?.server?.protocolVersion ?? '?'}) · session, standalone GET stream`,
  }[era] ?? 'not connected';
}

// ---------------------------------------------------------------- connecting

function newClient() {
  return new McpClient(transport, {
    handlers: { 'elicitation/create': elicit, 'sampling/createMessage': sample },
    ontrace: trace,
    onclose: () => {
      endElicitation();
      setState('disconnected', 'the transport closed');
    },
  });
}

async function connect() {
  const url = $('mcp-url').value.trim() || '/mcp';
  await client?.close().catch(() => {});
  setState('connecting', `connecting to ${url}…`);
  try {
    if (!transport || transportURL !== url) {
      transport = new shim.StreamableHTTPClientTransport(url);
      transportURL = url;
      client = newClient();
      recentStreams.clear();
    }
    await handshake();
  } catch (err) {
    logError(err);
    setState('error', `could not connect: ${describe(err)}`);
  }
}

// handshake negotiates the era with the chosen mode (2026-07-28: a
// server/discover probe; 2025: a new session), asks a 2025 server for log
// messages (the example server's ticker sends them on the standalone
// stream, which 2026-07-28 does not have), and lists tools.
async function handshake() {
  client.negotiation = $('mcp-negotiation').value;
  const init = await client.connect();
  if (client.era === 'legacy' && init.capabilities?.logging) await client.request('logging/setLevel', { level: 'info' });
  const { name = '?', version = '' } = init.serverInfo ?? {};
  setState('connected', `connected to ${name} ${version} · protocol ${init.protocolVersion} · session ${transport.sessionId ?? '(none)'}`);
  await listTools();
}

async function disconnect() {
  endElicitation();
  await client?.close().catch(logError);
  setState('disconnected');
}

async function terminate() {
  try {
    await client.terminateSession();
    setState('terminated', 'session terminated: restart or connect for a new one');
  } catch (err) {
    logError(err);
  }
}

async function restart() {
  endElicitation();
  setState('connecting', 'restarting: close(), start(), initialize…');
  try {
    await client.close();
    await handshake();
  } catch (err) {
    logError(err);
    setState('error', `restart failed: ${describe(err)}`);
  }
}

$('mcp-form').addEventListener('submit', (e) => { e.preventDefault(); connect(); });
$('mcp-disconnect').addEventListener('click', disconnect);
$('mcp-terminate').addEventListener('click', terminate);
$('mcp-restart').addEventListener('click', restart);

// ---------------------------------------------------------------- tools

// Friendly first arguments for the example server's tools; any other
// tool gets placeholders derived from its input schema.
const examples = {
  echo: { text: 'hello from esshim' },
  add: { a: 2, b: 40 },
  progress: { steps: 5, intervalMs: 400 },
  ask: { question: 'What should I call you?' },
  sample: { prompt: 'Write a haiku about event streams' },
  notify: { text: 'hello over the standalone stream' },
  slow: { ms: 10000 },
  region: { region: 'Zürich', text: 'grüezi' },
  cut: { afterMs: 300 },
};

function placeholder(schema = {}) {
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string': return '';
    case 'number': case 'integer': return 0;
    case 'boolean': return false;
    case 'array': return [];
    case 'object': return {};
    default: return null;
  }
}

function exampleArgs(tool) {
  const preset = examples[tool.name] ?? {};
  const args = {};
  for (const [key, schema] of Object.entries(tool.inputSchema?.properties ?? {})) {
    args[key] = key in preset ? preset[key] : placeholder(schema);
  }
  return args;
}

async function listTools() {
  const list = $('tools');
  try {
    const result = await client.request('tools/list', {});
    tools = result.tools ?? [];
    client.rememberTools(tools);
  } catch (err) {
    tools = [];
    list.replaceChildren(el('li', { class: 'empty error' }, `tools/list failed: ${describe(err)}`));
    return;
  }
  list.replaceChildren(...tools.map((tool) => el('li', {},
    el('button', { type: 'button', class: 'tool', 'data-tool': tool.name, title: tool.description ?? '', onclick: () => select(tool) },
      el('strong', {}, tool.name), el('span', { class: 'muted' }, tool.description ?? '')))));
  if (!tools.length) list.replaceChildren(el('li', { class: 'empty' }, 'the server has no tools'));
  select(tools.find((t) => t.name === selected?.name) ?? tools[0]);
}

function select(tool) {
  selected = tool;
  for (const b of $('tools').querySelectorAll('button.tool')) b.classList.toggle('selected', b.dataset.tool === tool?.name);
  $('tool-name').textContent = tool?.name ?? '–';
  $('tool-description').textContent = tool?.description ?? '';
  $('tool-args').value = tool ? json(exampleArgs(tool)) : '{}';
  setState($('mcp-status').dataset.state, $('mcp-status').textContent);
}

async function callTool() {
  if (!selected || call) return;
  let args;
  try {
    args = JSON.parse($('tool-args').value || '{}');
  } catch (err) {
    showResult({ error: `the arguments are not JSON: ${err.message}` });
    return;
  }
  const name = selected.name;
  $('progress').hidden = true;
  showResult({ pending: `calling ${name}…` });
  const onprogress = $('tool-progress').checked ? showProgress : undefined;
  const promise = client.request('tools/call', { name, arguments: args }, { onprogress });
  call = { id: promise.id, promise };
  $('tool-cancel').disabled = false;
  setState($('mcp-status').dataset.state, $('mcp-status').textContent);
  try {
    showResult({ name, result: await promise });
  } catch (err) {
    showResult({ name, error: describe(err) });
  } finally {
    call = undefined;
    $('tool-cancel').disabled = true;
    setState($('mcp-status').dataset.state, $('mcp-status').textContent);
  }
}

$('tool-call').addEventListener('click', callTool);
$('tool-cancel').addEventListener('click', () => call && client.cancel(call.id).catch(logError));
$('tool-args').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) callTool();
});

function showProgress({ progress, total, message }) {
  $('progress').hidden = false;
  const bar = $('progress-bar');
  if (total) {
    bar.max = total;
    bar.value = progress;
  } else {
    bar.removeAttribute('value'); // indeterminate
  }
  $('progress-text').textContent = `${message ?? 'progress'} (${progress}${total ? ` of ${total}` : ''})`;
}

function showResult({ pending, name, result, error }) {
  const box = $('result');
  if (pending) {
    box.className = 'result pending';
    box.textContent = pending;
    return;
  }
  if (error) {
    box.className = 'result error';
    box.replaceChildren(el('div', { class: 'result-head' }, name ? `${name} failed` : 'error'), el('pre', {}, error));
    return;
  }
  box.className = result.isError ? 'result error' : 'result ok';
  const blocks = (result.content ?? []).map((c) => el('pre', {}, c.type === 'text' ? c.text : json(c)));
  box.replaceChildren(el('div', { class: 'result-head' }, `${name} ${result.isError ? 'reported an error' : 'answered'}`), ...blocks);
  if (result.structuredContent) box.append(el('pre', { class: 'structured' }, `structuredContent ${json(result.structuredContent)}`));
  box.append(el('details', {}, el('summary', {}, 'raw result'), el('pre', {}, json(result))));
}

// ---------------------------------------------------------------- server→client requests

// Elicitations are answered one at a time with the inline form.
let elicitations = Promise.resolve();
let answerElicitation; // resolves the open form's promise

function elicit(params) {
  const next = elicitations.then(() => new Promise((resolve) => openElicitation(params, resolve)));
  elicitations = next.catch(() => {});
  return next;
}

function openElicitation({ message, requestedSchema }, resolve) {
  const form = $('elicit');
  const props = Object.entries(requestedSchema?.properties ?? {});
  const required = new Set(requestedSchema?.required ?? []);
  $('elicit-message').textContent = message ?? '';
  $('elicit-fields').replaceChildren(...props.map(([key, p]) => {
    const id = `elicit-field-${key}`;
    let input;
    if (Array.isArray(p.enum)) {
      input = el('select', { id, name: key }, ...p.enum.map((v, i) => el('option', { value: v }, p.enumNames?.[i] ?? v)));
    } else if (p.type === 'boolean') {
      input = el('input', { id, name: key, type: 'checkbox', checked: Boolean(p.default) });
    } else {
      const type = p.type === 'number' || p.type === 'integer' ? 'number' : ({ email: 'email', uri: 'url', date: 'date' }[p.format] ?? 'text');
      input = el('input', { id, name: key, type, value: p.default ?? '', required: required.has(key) });
      if (p.type === 'integer') input.step = '1';
    }
    return el('label', { class: 'field' }, el('span', {}, p.title ?? key, p.description ? el('small', { class: 'muted' }, ` ${p.description}`) : undefined), input);
  }));
  answerElicitation = (answer) => {
    answerElicitation = undefined;
    form.hidden = true;
    form.onsubmit = null;
    $('elicit-decline').onclick = $('elicit-cancel').onclick = null;
    resolve(answer);
  };
  form.onsubmit = (e) => {
    e.preventDefault();
    const content = {};
    for (const [key, p] of props) {
      const input = form.elements[key];
      if (p.type === 'boolean') content[key] = input.checked;
      else if (p.type === 'number' || p.type === 'integer') content[key] = Number(input.value);
      else content[key] = input.value;
    }
    answerElicitation({ action: 'accept', content });
  };
  $('elicit-decline').onclick = () => answerElicitation({ action: 'decline' });
  $('elicit-cancel').onclick = () => answerElicitation({ action: 'cancel' });
  form.hidden = false;
  form.querySelector('input, select')?.focus();
}

function endElicitation() {
  answerElicitation?.({ action: 'cancel' });
}

// sample answers sampling/createMessage with a canned reply: the console
// has no model, and a fixed answer shows the round trip just as well.
function sample({ messages = [] }) {
  const last = messages.at(-1)?.content;
  const prompt = last?.type === 'text' ? last.text : `(${last?.type ?? 'empty'} content)`;
  return {
    role: 'assistant',
    model: 'esshim-console-canned',
    stopReason: 'endTurn',
    content: { type: 'text', text: `canned reply from the esshim console to: ${prompt}` },
  };
}

// ---------------------------------------------------------------- log

const MAX_LOG = 500;
const methods = new Map(); // "out:id" / "in:id" → method of the request, for responses

function trace(entry) {
  if (entry.dir === 'error') {
    logError(entry.error);
    return;
  }
  const { dir, message: m } = entry;
  const arrow = dir === 'out' ? '→' : '←';
  const other = dir === 'out' ? 'in' : 'out';
  let kind; let summary; let extra = '';
  if (m.method !== undefined && m.id !== undefined) {
    kind = 'request';
    methods.set(`${dir}:${m.id}`, m.method);
    summary = `#${m.id} ${m.method}`;
    if (m.method === 'tools/call') extra = ` ${m.params?.name}`;
    if (m.method === 'elicitation/create') extra = ` “${m.params?.message}”`;
  } else if (m.method !== undefined) {
    kind = 'notification';
    summary = m.method;
    if (m.method === 'notifications/message') extra = ` ${m.params?.level}: ${typeof m.params?.data === 'string' ? m.params.data : JSON.stringify(m.params?.data)}`;
    if (m.method === 'notifications/progress') extra = ` ${m.params?.progress}/${m.params?.total ?? '?'} ${m.params?.message ?? ''}`;
  } else {
    const method = methods.get(`${other}:${m.id}`);
    methods.delete(`${other}:${m.id}`);
    kind = m.error ? 'error-response' : 'response';
    summary = `#${m.id} ${method ?? ''}`;
    extra = m.error ? ` error ${m.error.code}: ${m.error.message}` : ' result';
  }
  const tick = m.method === 'notifications/message' && /^tick \d+$/.test(m.params?.data);
  // Headers the client added to the request (2026-07-28: Mcp-Param-*).
  const headers = entry.headers && Object.keys(entry.headers).length ? `${json(entry.headers)}\n` : '';
  if (headers) extra += ` +${Object.keys(entry.headers).join(', ')}`;
  addLog({ arrow, kind, text: summary + extra, detail: headers + json(m), tick });
}

function logError(err) {
  const detail = { code: err?.code, status: err?.status, message: err?.message ?? String(err) };
  addLog({ arrow: '!', kind: 'error', text: describe(err), detail: json(detail) });
}

function addLog({ arrow, kind, text, detail, tick }) {
  const log = $('log');
  const item = el('li', { class: `entry ${kind}${tick ? ' tick' : ''}`, 'data-kind': kind },
    el('details', {},
      el('summary', {},
        el('time', {}, clock()), el('span', { class: 'arrow' }, arrow), el('span', { class: 'kind' }, kind), el('span', { class: 'text' }, text)),
      el('pre', {}, detail)));
  log.prepend(item);
  while (log.children.length > MAX_LOG) log.lastElementChild.remove();
}

$('log-clear').addEventListener('click', () => $('log').replaceChildren());
$('log-ticks').addEventListener('change', (e) => $('log').classList.toggle('hide-ticks', !e.target.checked));

// ---------------------------------------------------------------- connection manager

// Streams are kept for a few seconds after they leave the snapshot, so
// that POST streams, which often live for milliseconds, can be seen at all.
const KEEP_GONE_MS = 5000;
const recentStreams = new Map(); // "lifecycle:id" → { lifecycle, info, goneAt }

function renderSnapshot() {
  if (!transport) return;
  let snap;
  try {
    snap = transport.snapshot();
  } catch {
    return;
  }
  const now = Date.now();
  $('snap-lifecycle').textContent = String(snap.lifecycle);
  $('snap-session').textContent = snap.sessionId || 'none';
  $('snap-protocol').textContent = transport.protocolVersion ?? '–';
  $('snap-era').textContent = snap.era ?? client?.era ?? '–';
  $('snap-inflight').textContent = snap.inflight.length ? snap.inflight.map((id) => `#${id}`).join(' ') : 'none';
  $('snap-timers').textContent = String(snap.timers ?? '–');
  $('snap-goroutines').textContent = String(snap.transportGoroutines ?? '–');

  const live = new Set();
  for (const info of snap.streams) {
    const key = `${snap.lifecycle}:${info.id}`;
    live.add(key);
    recentStreams.set(key, { lifecycle: snap.lifecycle, info, goneAt: undefined });
  }
  for (const [key, s] of recentStreams) {
    if (live.has(key)) continue;
    s.goneAt ??= now;
    if (now - s.goneAt > KEEP_GONE_MS) recentStreams.delete(key);
  }
  const rows = [...recentStreams.values()]
    .sort((a, b) => a.lifecycle - b.lifecycle || a.info.id - b.info.id)
    .map(({ lifecycle, info, goneAt }) => el('tr', { class: goneAt ? 'gone' : 'live', 'data-stream-id': String(info.id), 'data-kind': info.kind },
      el('td', {}, lifecycle === snap.lifecycle ? String(info.id) : `${info.id} (lifecycle ${lifecycle})`),
      el('td', {}, el('span', { class: `badge kind-${info.kind}` }, info.kind)),
      el('td', {}, el('span', { class: `badge state-${goneAt ? 'ended' : info.state}` }, goneAt ? 'ended' : info.state)),
      el('td', { class: 'mono' }, info.lastEventId || '–'),
      el('td', { class: 'num' }, String(info.events)),
      el('td', { class: 'num' }, String(info.reconnects))));
  if (!rows.length) rows.push(el('tr', { class: 'empty' }, el('td', { colSpan: 6 }, 'no streams')));
  $('streams').replaceChildren(...rows);
}

setInterval(renderSnapshot, 250);

// ---------------------------------------------------------------- live events

let stream;
$('stream-form').addEventListener('submit', (e) => {
  e.preventDefault();
  stream?.close();
  const events = $('events');
  $('stream-status').textContent = 'connecting…';
  stream = shim.openEventStream($('stream-url').value, {
    onopen: (info) => { $('stream-status').textContent = `open (HTTP ${info.status})`; },
    onevent: (ev) => {
      events.prepend(el('li', {}, `[${ev.type}] id=${ev.lastEventId} ${ev.data}`));
      while (events.children.length > MAX_LOG) events.lastElementChild.remove();
    },
  });
  $('stream-close').disabled = false;
  stream.done.then(
    (r) => { $('stream-status').textContent = `ended (${r.reason}), last event id ${r.lastEventId || '–'}`; },
    (err) => { $('stream-status').replaceChildren(el('span', { class: 'error' }, describe(err))); },
  );
});
$('stream-close').addEventListener('click', () => { stream?.close(); $('stream-close').disabled = true; });

// ---------------------------------------------------------------- ready

setState('disconnected');
// For poking around from the devtools console.
globalThis.mcpConsole = { get transport() { return transport; }, get client() { return client; } };
globalThis.ready = true;
if (new URLSearchParams(location.search).has('connect')) connect();
