// The client command the MCP conformance runner spawns for a client
// scenario: `node client.mjs <server-url>`. It runs nothing itself: it asks
// the Go test (ESSHIM_CONFORMANCE_CONTROLLER) to run the scenario in
// headless Chromium, in a page on the scenario server's origin, with the
// SDK Client of one generation over esshim or over the SDK's own transport
// (ESSHIM_CONFORMANCE_VARIANT), and exits as that page's client did.
const [serverUrl] = process.argv.slice(2);
const body = JSON.stringify({
  serverUrl,
  variant: process.env.ESSHIM_CONFORMANCE_VARIANT,
  scenario: process.env.MCP_CONFORMANCE_SCENARIO,
  context: process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {},
});
const res = await fetch(process.env.ESSHIM_CONFORMANCE_CONTROLLER, { method: 'POST', body });
const out = await res.json();
for (const line of out.log ?? []) console.log(line);
if (!out.ok) {
  console.error(out.error);
  process.exit(1);
}
