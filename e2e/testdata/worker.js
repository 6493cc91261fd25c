// A module worker that loads esshim and reports what it sees.
import { load } from '/dist/esshim.js';

self.onmessage = async (msg) => {
  try {
    const shim = await load();
    const again = await load();
    const reply = { version: shim.version, same: shim === again, hasWindow: typeof window !== 'undefined' };
    if (msg.data && msg.data.streamURL) {
      const events = [];
      const handle = shim.openEventStream(msg.data.streamURL, { onevent: (e) => events.push(e) });
      reply.result = await handle.done;
      reply.events = events;
    }
    self.postMessage(reply);
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
