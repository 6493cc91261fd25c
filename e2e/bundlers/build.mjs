// build.mjs builds the fixture apps from esshim as installed from its npm
// tarball (node_modules/esshim), each the way its bundler is meant to be
// used, into OUTDIR/<app>:
//
//   vite/      `vite build` of app/index.html
//   webpack/   webpack 5 (production) of app/main.js, with app/index.html
//   esbuild/   esbuild of app/main.js; esbuild leaves new URL('./esshim.wasm',
//              import.meta.url) as it is, so the wasm is copied beside the bundle
//   extension/ an MV3 extension: extension/sw.js and extension/page.js bundled
//              with esbuild, the wasm and the extension's static files copied
//   classic/   the package's esshim.iife.js and wasm with a page without modules
//
// and type-checks ts/ with tsc --noEmit (strict). Usage: node build.mjs OUTDIR
import { build as viteBuild } from 'vite';
import webpack from 'webpack';
import { build as esbuild } from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.env.INIT_CWD || process.cwd(), process.argv[2] ?? '');
if (!process.argv[2]) throw new Error('usage: node build.mjs OUTDIR');
const pkg = path.join(here, 'node_modules/esshim');
const at = (...p) => path.join(here, ...p);
const copy = (from, to) => { fs.mkdirSync(path.dirname(to), { recursive: true }); fs.copyFileSync(from, to); };

const steps = {
  async typescript() {
    const tsc = at('node_modules/.bin/tsc');
    execFileSync(tsc, ['-p', at('ts/tsconfig.json')], { stdio: 'inherit' });
    execFileSync(tsc, ['-p', at('ts/tsconfig.types.json')], { stdio: 'inherit' });
  },

  async vite() {
    await viteBuild({
      root: at('app'),
      base: './',
      configFile: false,
      logLevel: 'warn',
      build: { outDir: path.join(out, 'vite'), emptyOutDir: true, minify: true },
    });
  },

  async webpack() {
    const dir = path.join(out, 'webpack');
    const stats = await new Promise((resolve, reject) => webpack({
      mode: 'production',
      context: here,
      entry: './app/main.js',
      output: { path: dir, filename: 'main.js', publicPath: 'auto', clean: true },
      performance: { hints: false },
      // Terser would take most of the build (30-80 s on a loaded 2-core
      // machine) and proves nothing about how webpack takes the package.
      optimization: { minimize: false },
    }, (err, s) => (err ? reject(err) : resolve(s))));
    if (stats.hasErrors()) throw new Error(stats.toString('errors-only'));
    copy(at('app/index.html'), path.join(dir, 'index.html'));
  },

  async esbuild() {
    const dir = path.join(out, 'esbuild');
    fs.rmSync(dir, { recursive: true, force: true });
    await esbuild({
      absWorkingDir: here, entryPoints: ['app/main.js'], outfile: path.join(dir, 'main.js'),
      bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, logLevel: 'warning',
    });
    copy(path.join(pkg, 'esshim.wasm'), path.join(dir, 'esshim.wasm'));
    copy(at('app/index.html'), path.join(dir, 'index.html'));
  },

  async extension() {
    const dir = path.join(out, 'extension');
    fs.rmSync(dir, { recursive: true, force: true });
    await esbuild({
      absWorkingDir: here, entryPoints: { sw: 'extension/sw.js', page: 'extension/page.js' }, outdir: dir,
      bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: false, logLevel: 'warning',
    });
    copy(path.join(pkg, 'esshim.wasm'), path.join(dir, 'esshim.wasm'));
    for (const f of ['manifest.json', 'page.html']) copy(at('extension', f), path.join(dir, f));
  },

  async classic() {
    const dir = path.join(out, 'classic');
    fs.rmSync(dir, { recursive: true, force: true });
    for (const f of ['esshim.iife.js', 'esshim.wasm']) copy(path.join(pkg, f), path.join(dir, f));
    copy(at('classic/index.html'), path.join(dir, 'index.html'));
  },
};

const only = process.env.ONLY ? process.env.ONLY.split(',') : Object.keys(steps);
for (const name of only) {
  const start = Date.now();
  await steps[name]();
  console.log(`bundlers: ${name} built in ${Date.now() - start} ms`);
}
