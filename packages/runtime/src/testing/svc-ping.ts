// Test-only service: answers "test.ping" on the bus and Echo on the call plane, and marks the shared
// memory (word 0 = 0xC0FFEE) so a sibling can check it sees the same buffer.
import { loadEchoProto } from "@xensim/proto";
import { Counter } from "prom-client";
import { z } from "zod";
import { runServiceMain, type ServiceModule } from "../index.js";

const Config = z.object({ greeting: z.string().default("hello") });
const enc = new TextEncoder();

export const pingService: ServiceModule<z.output<typeof Config>> = {
  name: "ping",
  configSchema: Config,
  async start(ctx) {
    if (ctx.sharedMemory) Atomics.store(new Int32Array(ctx.sharedMemory), 0, 0xc0ffee);
    const pings = new Counter({
      name: "ping_requests_total",
      help: "test.ping requests answered",
      registers: [ctx.metrics],
    });
    const sub = ctx.bus.subscribe("test.ping", {
      callback: (m) => {
        pings.inc();
        if (m.reply) ctx.bus.publish(m.reply, enc.encode(`${ctx.config.greeting} from ping`));
      },
    });
    ctx.calls.server.addService(loadEchoProto().xensim.testing.v1.Echo.service, {
      Echo: async (req: { text: string }) => ({ ...req, servedBy: `ping@${ctx.hostId}` }),
    });
    await ctx.bus.flush();
    ctx.log.info({ event: "started" }, "ping started");
    return {
      stop: async () => {
        sub.unsubscribe();
        ctx.log.info({ event: "stopped" }, "ping stopped");
      },
      health: () => ({ status: "ok" }),
    };
  },
};

void runServiceMain(pingService as ServiceModule);
