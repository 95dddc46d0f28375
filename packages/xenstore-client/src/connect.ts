// One entry point for the three ways to reach xenstored.
import type { CallClient, EventBus } from "@xensim/bus";
import { XenstoreClient } from "./client.js";
import { type SessionTransportOptions, XsSessionTransport } from "./session-transport.js";
import { type SocketTransportOptions, XsSocketTransport } from "./socket-transport.js";

export type ConnectOptions =
  | ({ socket: string } & SocketTransportOptions)
  /** gRPC or the in-process call path: the CallClient decides which. */
  | ({ calls: CallClient; bus: EventBus } & SessionTransportOptions);

/** Where libxenstore looks: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket. */
export function defaultXenstoredPath(env: Record<string, string | undefined> = process.env): string {
  if (env.XENSTORED_PATH) return env.XENSTORED_PATH;
  return `${env.XENSTORED_RUNDIR ?? "/var/run/xenstored"}/socket`;
}

export async function connectXenstore(opts: ConnectOptions): Promise<XenstoreClient> {
  if ("socket" in opts) return new XenstoreClient(await XsSocketTransport.connect(opts.socket, opts));
  return new XenstoreClient(await XsSessionTransport.connect(opts.calls, opts.bus, opts));
}
