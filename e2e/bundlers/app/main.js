// The entry that Vite, webpack and esbuild each build (see build.mjs).
import { runApp } from './run.js';

globalThis.runApp = runApp;
globalThis.ready = true;
