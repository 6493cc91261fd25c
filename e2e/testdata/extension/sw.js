// The extension's service worker. The test copies dist/esshim.js and
// esshim.wasm next to it (an extension may only import its own files) and
// evaluates runEventSourceTest(url) in this worker over DevTools.
// Module service workers cannot use top-level await, so loading waits for
// the first call.
import { load } from './esshim.js';
import { runEventSources } from './eventsource-worker-run.js';

globalThis.runEventSourceTest = async (url) => runEventSources(await load(), url);
