import { createGrpcCallClient, createGrpcCallServer } from "./grpc-calls.js";
import { createInProcessCallClient, createInProcessCallServer } from "./inprocess-calls.js";
import { callContract } from "./testing/calls-contract.js";

callContract("grpc", async (def, impl, { seed }) => {
  const server = createGrpcCallServer({ address: "127.0.0.1:0", ...(seed !== undefined ? { seed } : {}) });
  server.addService(def, impl);
  const address = await server.listen();
  const client = createGrpcCallClient(def, address, seed !== undefined ? { seed } : {});
  return {
    server,
    client,
    // a port that was just freed: nothing listens there
    nowhere: () => createGrpcCallClient(def, "127.0.0.1:1"),
    close: async () => {
      client.close();
      await server.close();
    },
  };
});

let n = 0;
callContract("in-process", async (def, impl, { seed }) => {
  const name = `echo-${++n}`;
  const server = createInProcessCallServer({ name, ...(seed !== undefined ? { seed } : {}) });
  server.addService(def, impl);
  await server.listen();
  const client = createInProcessCallClient(def, name, seed !== undefined ? { seed } : {});
  return {
    server,
    client,
    nowhere: () => createInProcessCallClient(def, `absent-${n}`),
    close: async () => {
      client.close();
      await server.close();
    },
  };
});
