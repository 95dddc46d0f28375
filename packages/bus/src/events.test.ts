import { after, before } from "node:test";
import { type NatsServer, startNatsServer } from "@xensim/testkit";
import { createInProcessBus } from "./inprocess-bus.js";
import { connectNatsBus } from "./nats-bus.js";
import { eventBusContract } from "./testing/events-contract.js";

let pairNo = 0;
eventBusContract("in-process", async ({ seed }) => {
  const name = `contract-${process.pid}-${++pairNo}`;
  const a = createInProcessBus({ name, ...(seed !== undefined ? { seed } : {}) });
  const b = createInProcessBus({ name });
  await a.flush();
  await b.flush();
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
});

let nats: NatsServer;
before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats?.stop();
});

eventBusContract("nats", async ({ seed }) => {
  const a = await connectNatsBus({ servers: nats.url, name: "a", ...(seed !== undefined ? { seed } : {}) });
  const b = await connectNatsBus({ servers: [nats.url], name: "b" });
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
});
