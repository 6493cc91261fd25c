// Bundle entry for the browser tests of the SDK's second generation:
// @modelcontextprotocol/client 2.x, whose Client negotiates the protocol
// era (2025 handshake or 2026-07-28 per-request envelope). It re-exports
// what a test page needs to run that Client over esshim's transport, and
// the SDK's own v2 StreamableHTTPClientTransport, which the tests run as the
// control. Imports use the package's public entry only, so the page runs the
// code an application using the SDK from npm runs.
export {
  Client,
  StreamableHTTPClientTransport,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  PROTOCOL_VERSION_META_KEY,
  DEFAULT_REQUEST_TIMEOUT_MSEC,
} from '@modelcontextprotocol/client';

// The version actually bundled, so a test log can say what it ran against.
import clientPackage from './node_modules/@modelcontextprotocol/client/package.json' with { type: 'json' };
export const SDK2_VERSION = clientPackage.version;
