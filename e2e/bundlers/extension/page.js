// An extension page of the same extension: the same app as the bundler
// tests, bundled with esbuild.
import { runApp } from '../app/run.js';

globalThis.runApp = runApp;
globalThis.ready = true;
