// smoke.mjs proves that a bundle written by bundle.mjs loads and works: it
// imports the bundle under node (which has the fetch and streams the browser
// build relies on) and drives a live server through the SDK's own
// StreamableHTTPClientTransport.
//
//   node e2e/npm/smoke.mjs BUNDLE URL
//
// URL is an MCP endpoint of e2e/mcpserver or e2e/faultserver. Every tool the
// server lists among echo, progress, notify, ask and sample is exercised.
// Prints a JSON summary and exits 0, or prints the failure and exits 1.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundle, url] = process.argv.slice(2);
if (!bundle || !url) {
  console.error('usage: node smoke.mjs BUNDLE URL');
  process.exit(2);
}

function check(cond, what) {
  if (!cond) throw new Error(`smoke: ${what}`);
}

function textOf(result) {
  return result.content?.[0]?.text;
}

async function main() {
  const sdk = await import(pathToFileURL(path.resolve(bundle)).href);
  const client = new sdk.Client(
    { name: 'esshim-smoke', version: '0.0.0' },
    { capabilities: { elicitation: {}, sampling: {} } },
  );
  client.setRequestHandler(sdk.ElicitRequestSchema, async (req) => ({
    action: 'accept',
    content: { answer: `yes to ${req.params.message}` },
  }));
  client.setRequestHandler(sdk.CreateMessageRequestSchema, async (req) => ({
    model: 'smoke',
    role: 'assistant',
    content: { type: 'text', text: `sampled: ${req.params.messages[0].content.text}` },
  }));
  const logs = [];
  let logArrived = () => {};
  client.setNotificationHandler(sdk.LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params.data);
    logArrived();
  });

  const transport = new sdk.StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  const summary = { sdk: sdk.SDK_VERSION, protocolVersion: transport.protocolVersion, sessionId: transport.sessionId };
  check(transport.sessionId, 'no session id after connect');

  const tools = (await client.listTools()).tools.map((t) => t.name);
  summary.tools = tools;
  check(tools.includes('echo'), 'no echo tool');

  summary.echo = textOf(await client.callTool({ name: 'echo', arguments: { text: 'hello' } }));
  check(summary.echo === 'hello', `echo answered ${summary.echo}`);

  if (tools.includes('progress')) {
    const progress = [];
    const res = await client.callTool({ name: 'progress', arguments: { steps: 3, intervalMs: 5 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    summary.progress = progress;
    check(textOf(res) === 'done after 3 steps', `progress answered ${textOf(res)}`);
    check(progress.join() === '1,2,3', `progress notifications ${progress}`);
  }
  if (tools.includes('ask')) {
    summary.ask = textOf(await client.callTool({ name: 'ask', arguments: { question: 'ready?' } }));
    check(summary.ask === 'accept: yes to ready?', `ask answered ${summary.ask}`);
  }
  if (tools.includes('sample')) {
    summary.sample = textOf(await client.callTool({ name: 'sample', arguments: { prompt: 'hi' } }));
    check(summary.sample === 'sampled: hi', `sample answered ${summary.sample}`);
  }
  if (tools.includes('notify')) {
    await client.setLoggingLevel('info');
    const arrived = new Promise((resolve) => {
      logArrived = () => logs.includes('standalone hello') && resolve();
    });
    await client.callTool({ name: 'notify', arguments: { text: 'standalone hello' } });
    await Promise.race([
      arrived,
      new Promise((_, reject) => setTimeout(() => reject(new Error('smoke: no notification on the standalone stream')), 5000)),
    ]);
    summary.logs = logs;
  }

  await transport.terminateSession();
  check(transport.sessionId === undefined, 'session id kept after terminateSession');
  await client.close();
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
