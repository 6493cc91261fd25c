// Records what an EventSource (native or esshim's) dispatches, in a shape
// the Go tests compare: one entry per event, with the readyState the
// listener saw at that moment.

/**
 * watch listens to open, error, message and the given extra event types on
 * es. Stream events (MessageEvents, whatever their type, 'open' and 'error'
 * included) become {kind: 'message', type, data, lastEventId, origin,
 * readyState}; the connection's own open and error events become {kind:
 * 'open' | 'error', readyState}. `until(pred, ms)` resolves true once an
 * entry matches pred, false after ms.
 */
export function watch(es, types) {
  const log = [];
  const waiters = new Set();
  const started = performance.now();
  const add = (entry) => {
    entry.at = Math.round(performance.now() - started);
    log.push(entry);
    for (const w of waiters) w(entry);
  };
  for (const type of new Set(['open', 'error', 'message', ...(types ?? [])])) {
    es.addEventListener(type, (ev) => {
      if (ev instanceof MessageEvent) {
        add({ kind: 'message', type: ev.type, data: ev.data, lastEventId: ev.lastEventId, origin: ev.origin, readyState: es.readyState });
      } else {
        add({ kind: ev.type, readyState: es.readyState });
      }
    });
  }
  const until = (pred, ms) => new Promise((resolve) => {
    if (log.some(pred)) return resolve(true);
    const timer = setTimeout(() => { waiters.delete(check); resolve(false); }, ms);
    const check = (entry) => {
      if (!pred(entry)) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(true);
    };
    waiters.add(check);
  });
  return { log, until };
}

/** failed matches the error event of a connection that failed for good. */
export const failed = (e) => e.kind === 'error' && e.readyState === 2;

/** sleep resolves after ms. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
