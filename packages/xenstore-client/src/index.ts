export type { TransactionOptions, WatchEvent, XsWatch } from "./client.js";
export { XenstoreClient, XenstoreError, XsTransaction } from "./client.js";
export type { ConnectOptions } from "./connect.js";
export { connectXenstore, defaultXenstoredPath } from "./connect.js";
export type { SessionTransportOptions } from "./session-transport.js";
export { XsSessionTransport } from "./session-transport.js";
export type { SocketTransportOptions } from "./socket-transport.js";
export { XsSocketTransport } from "./socket-transport.js";
export type { XsTransport } from "./transport.js";
