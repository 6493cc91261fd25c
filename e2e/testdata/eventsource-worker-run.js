// What the worker tests run inside a worker (dedicated or extension service
// worker): two esshim EventSources to one URL, one of them through
// install(self), each until the stream fails on the server's final 204.
export async function runEventSources(shim, url) {
  const uninstall = shim.install(self);
  const installed = new EventSource(url);
  uninstall();
  const direct = new shim.EventSource(url);
  const logs = await Promise.all([installed, direct].map((es) => new Promise((resolve) => {
    const log = [];
    const done = () => { es.close(); resolve(log); };
    const timer = setTimeout(done, 10000);
    es.onopen = () => log.push('open:' + es.readyState);
    es.onmessage = (e) => log.push('message:' + e.data + ':' + e.lastEventId + ':' + (e.origin === new URL(url).origin));
    es.onerror = () => {
      log.push('error:' + es.readyState);
      if (es.readyState === 2) { clearTimeout(timer); done(); }
    };
  })));
  return {
    logs,
    hasWindow: typeof window !== 'undefined',
    hasDocument: typeof document !== 'undefined',
    installedWasShim: installed instanceof shim.EventSource,
    restored: self.EventSource !== shim.EventSource,
    location: String(self.location),
    global: Object.prototype.toString.call(self),
  };
}
