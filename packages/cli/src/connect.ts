// Reaching a running xensim host from a command: gRPC for calls, NATS (when given) for events.
import {
  type CallClient,
  connectNatsBus,
  createGrpcCallClient,
  createInProcessBus,
  type EventBus,
} from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";

export async function connectCalls(
  grpcAddress: string,
  natsUrl?: string,
): Promise<{ calls: CallClient; bus: EventBus; close: () => Promise<void> }> {
  const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
  const calls = createGrpcCallClient(def, grpcAddress);
  // Without NATS, watch events have nowhere to arrive; reads and writes still work.
  const bus = natsUrl ? await connectNatsBus({ servers: natsUrl, name: "xensim-cli" }) : createInProcessBus();
  return {
    calls,
    bus,
    close: async () => {
      calls.close();
      await bus.close();
    },
  };
}
