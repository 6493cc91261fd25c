// bundle.mjs writes one browser ES module (format esm, platform browser, not
// minified, so a failing test's stack trace is readable) from an entry in
// this directory.
//
//   npm run bundle -- --outfile=/abs/path/sdk.js [--entry=sdk-entry.js]
//   node e2e/npm/bundle.mjs --outfile=dist/test/sdk.js
//
// A relative --outfile is resolved against the directory npm was started in
// (INIT_CWD), not this one, so `npm --prefix e2e/npm run bundle` from the
// project root writes where the caller means.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const callerDir = process.env.INIT_CWD || process.cwd();

function parseArgs(argv) {
  const args = { entry: 'sdk-entry.js' };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(outfile|entry)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unknown argument ${argv[i]}`);
    args[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  if (!args.outfile) throw new Error('missing --outfile=PATH');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const outfile = path.resolve(callerDir, args.outfile);
await build({
  absWorkingDir: here,
  entryPoints: [path.resolve(here, args.entry)],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
console.log(`bundled ${args.entry} -> ${outfile}`);
