// A module worker that runs the protocol-generation script
// (generations-harness.js) with the SDK v2 Client and esshim, where there is
// no window and no document: there, the 2.4.0 Client derives a tool call's
// Mcp-Param-* headers from the tool's input schema itself.
import * as sdk2 from '/dist/test/sdk2.js';
import { load } from '/dist/esshim.js';
import { runGeneration } from '/generations-harness.js';

self.onmessage = async (msg) => {
  try {
    const shim = await load();
    const out = await runGeneration({ sdk2, shim, ...msg.data });
    out.hasWindow = typeof window !== 'undefined' || typeof document !== 'undefined';
    self.postMessage(out);
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
