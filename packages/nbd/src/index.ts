export * from "./protocol.js";
export { ByteQueue } from "./byte-queue.js";
export {
  NbdConnection,
  nbdErrorOf,
  transmissionFlags,
  type NbdConnectionHooks,
  type NbdConnectionOptions,
  type NbdExports,
} from "./connection.js";
export { startNbdServer, type NbdListen, type NbdServerHandle, type NbdServerOptions } from "./server.js";
