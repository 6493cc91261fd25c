// A dedicated module worker that runs shim.EventSource and reports back.
import { load } from '/dist/esshim.js';
import { runEventSources } from '/eventsource-worker-run.js';

self.onmessage = async (msg) => {
  try {
    const shim = await load();
    self.postMessage(await runEventSources(shim, msg.data.url));
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
