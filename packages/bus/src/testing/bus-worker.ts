// Worker entry for the cross-thread tests of the in-process adapters.
import { parentPort, workerData } from "node:worker_threads";
import { loadEchoProto } from "@xensim/proto";
import { createInProcessBus } from "../inprocess-bus.js";
import { createInProcessCallClient, createInProcessCallServer } from "../inprocess-calls.js";

const { busName, callName, id } = workerData as { busName: string; callName: string; id: number };
const port = parentPort;
if (!port) throw new Error("bus-worker must run in a worker");
const enc = new TextEncoder();
const dec = new TextDecoder();
const def = loadEchoProto().xensim.testing.v1.Echo.service;

const bus = createInProcessBus({ name: busName });
bus.subscribe("job", { queue: "workers", callback: (m) => bus.publish(`seen.${id}`, m.data) });
const order: number[] = [];
bus.subscribe("bcast.>", {
  callback: (m) => {
    if (m.subject === "bcast.end") bus.publish(`order.${id}`, enc.encode(JSON.stringify(order)));
    else order.push(Number(dec.decode(m.data)));
  },
});
bus.subscribe(`rpc.${id}`, {
  callback: (m) => m.reply && bus.publish(m.reply, enc.encode(`w${id}:${dec.decode(m.data)}`)),
});
const server = id === 1 ? createInProcessCallServer({ name: callName }) : undefined;
server?.addService(def, { Echo: async (req: object) => ({ ...req, servedBy: `worker${id}` }) });
await server?.listen();
await bus.flush();

port.on("message", async (m: { type: string }) => {
  if (m.type === "call") {
    const c = createInProcessCallClient(def, callName);
    try {
      const r = await c.call<object, { servedBy: string; text: string }>(
        "Echo",
        { text: `from ${id}` },
        { deadlineMs: 3000 },
      );
      port.postMessage({ type: "called", result: r });
    } catch (err) {
      port.postMessage({ type: "called", error: String(err) });
    } finally {
      c.close();
    }
  } else if (m.type === "stop-server") {
    await server?.close();
    port.postMessage({ type: "server-stopped" });
  } else if (m.type === "stop") {
    await server?.close();
    await bus.close();
    port.close();
  }
});
port.postMessage({ type: "ready" });
