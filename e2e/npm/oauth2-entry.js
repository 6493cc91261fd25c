// Bundle entry for the OAuth browser tests, SDK v2: the package's own
// namespace is what an application passes to esshim as `sdkAuth` (it
// exports auth, UnauthorizedError, InsufficientScopeError, ...).
import * as sdkAuth from '@modelcontextprotocol/client';
export { sdkAuth };
export const { Client, StreamableHTTPClientTransport } = sdkAuth;
