// The loader of the hello-world baseline. The bench appends it to Go's
// wasm_exec.js, wrapped as esshim's build wraps it, so both pages pay for
// the same JS and the same steps: fetch, compileStreaming, instantiate,
// run until main hands over its exports.

export async function load(url = new URL('./hello.wasm', import.meta.url)) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`hello: ${url} answered HTTP ${response.status}`);
  const module = await WebAssembly.compileStreaming(response);
  const go = new Go();
  const readyKey = '__hello_ready_' + Math.random().toString(36).slice(2);
  const exported = new Promise((resolve) => {
    Object.defineProperty(globalThis, readyKey, { value: resolve, configurable: true });
  });
  go.env = { HELLO_READY: readyKey, GOGC: '25' }; // as esshim's loader does
  const instance = await WebAssembly.instantiate(module, go.importObject);
  const exited = go.run(instance);
  const exports = await Promise.race([
    exported,
    exited.then(() => { throw new Error('hello: the Go program exited during load'); }),
  ]);
  delete globalThis[readyKey];
  return exports;
}
