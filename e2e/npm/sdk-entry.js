// Bundle entry for the browser tests: the official MCP TypeScript SDK's
// client side, re-exported so a test page can import everything it needs
// from one ES module built by bundle.mjs. Importing from the package's own
// public subpaths keeps the test honest: the page runs exactly the code an
// application using the SDK from npm would run.
export { Client } from '@modelcontextprotocol/sdk/client/index.js';
export {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  LATEST_PROTOCOL_VERSION,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

// The version actually bundled, so a test log can say what it ran against.
// (A relative path, because the SDK's exports map sends ./package.json to
// dist/esm/package.json, which has no version.)
import sdkPackage from './node_modules/@modelcontextprotocol/sdk/package.json' with { type: 'json' };
export const SDK_VERSION = sdkPackage.version;
