// Test-only service: asks ping over the bus and the call plane, reads the shared memory ping marked,
// and publishes what it found (word 1 = 1 when all three worked, word 2 = the value it read).
import { BusError, CallError, GrpcStatus } from "@xensim/bus";
import { loadEchoProto } from "@xensim/proto";
import { runServiceMain, type ServiceModule } from "../index.js";

const dec = new TextDecoder();
const enc = new TextEncoder();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const pongService: ServiceModule = {
  name: "pong",
  async start(ctx) {
    const client = ctx.calls.client(loadEchoProto().xensim.testing.v1.Echo.service, "ping");
    let result: Record<string, unknown> | undefined;
    const resultSub = ctx.bus.subscribe("test.result", {
      callback: (m) => {
        if (m.reply && result) ctx.bus.publish(m.reply, enc.encode(JSON.stringify(result)));
      },
    });
    const work = (async () => {
      let bus = "";
      while (!ctx.signal.aborted) {
        try {
          bus = dec.decode((await ctx.bus.request("test.ping", new Uint8Array(0), { timeoutMs: 1000 })).data);
          break;
        } catch (err) {
          if (!BusError.is(err)) throw err;
          await sleep(10);
        }
      }
      let call: { servedBy?: string } = {};
      while (!ctx.signal.aborted) {
        try {
          call = await client.call("Echo", { text: "pong" }, { deadlineMs: 2000 });
          break;
        } catch (err) {
          if (!CallError.is(err, GrpcStatus.UNAVAILABLE)) throw err;
          await sleep(10);
        }
      }
      const view = ctx.sharedMemory ? new Int32Array(ctx.sharedMemory) : undefined;
      const sab = view ? Atomics.load(view, 0) : -1;
      result = { bus, call: call.servedBy, sab };
      if (view) {
        Atomics.store(view, 2, sab);
        Atomics.store(view, 1, 1);
        Atomics.notify(view, 1);
      }
      ctx.log.info({ event: "result", ...result }, "pong done");
    })().catch((err) => ctx.log.error({ err }, "pong failed"));
    await ctx.bus.flush();
    return {
      stop: async () => {
        await work;
        resultSub.unsubscribe();
        ctx.log.info({ event: "stopped" }, "pong stopped");
      },
      health: () => ({ status: result ? "ok" : "degraded" }),
    };
  },
};

void runServiceMain(pongService);
