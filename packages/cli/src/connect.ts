// Reaching a running xensim host from a command: gRPC for calls, NATS (when given) for events.
import {
  type CallClient,
  connectNatsBus,
  createGrpcCallClient,
  createInProcessBus,
  type EventBus,
} from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";
import { inboxPrefix, loadCredentials } from "@xensim/security";

/**
 * `keysDir` (default $XENSIM_KEYS): the deployment's credentials; the CLI is its `admin` client
 * (mutual TLS to xenstored, its nkey on NATS).
 */
export async function connectCalls(
  grpcAddress: string,
  natsUrl?: string,
  keysDir: string | undefined = process.env.XENSIM_KEYS,
): Promise<{ calls: CallClient; bus: EventBus; close: () => Promise<void> }> {
  const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
  const creds = keysDir ? loadCredentials(keysDir, { client: "admin" }) : undefined;
  const calls = createGrpcCallClient(
    def,
    grpcAddress,
    creds ? { tls: { ca: creds.ca, cert: creds.tls.cert, key: creds.tls.key, expect: "xenstored" } } : {},
  );
  // Without NATS, watch events have nowhere to arrive; reads and writes still work.
  const bus = natsUrl
    ? await connectNatsBus({
        servers: natsUrl,
        name: "xensim-cli",
        ...(creds ? { nkeySeed: creds.natsSeed, inboxPrefix: inboxPrefix(creds.identity) } : {}),
      })
    : createInProcessBus();
  return {
    calls,
    bus,
    close: async () => {
      calls.close();
      await bus.close();
    },
  };
}
