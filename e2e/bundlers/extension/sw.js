// The extension's service worker, bundled with esbuild from esshim as
// installed from its npm tarball: build.mjs copies esshim.wasm beside the
// bundle, where new URL('./esshim.wasm', import.meta.url) finds it (an
// extension may only load its own files). The tests evaluate these
// functions in the worker over DevTools. Module service workers cannot use
// top-level await, so loading waits for the first call.
import { load } from 'esshim';
import { runApp } from '../app/run.js';
import { runEventSources } from '../../testdata/eventsource-worker-run.js';

globalThis.runEventSourceTest = async (url) => runEventSources(await load(), url);
globalThis.runApp = runApp;
