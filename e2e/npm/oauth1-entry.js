// Bundle entry for the OAuth browser tests, SDK v1: the Client, its
// transport (the control) and the auth module as one namespace, which an
// application passes to esshim as the `sdkAuth` option.
export { Client } from '@modelcontextprotocol/sdk/client/index.js';
export { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export * as sdkAuth from '@modelcontextprotocol/sdk/client/auth.js';
