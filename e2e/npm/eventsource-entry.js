// Bundle entry for benchmarks that compare esshim's EventSource with the
// `eventsource` npm package (a fetch-based EventSource written in JS).
export { EventSource as NpmEventSource } from 'eventsource';
import eventsourcePackage from 'eventsource/package.json' with { type: 'json' };
export const EVENTSOURCE_VERSION = eventsourcePackage.version;
