// Host process B of `xensim bench ioreq`'s distributed row (started by ioreq.ts): a page-server and
// the device-model service with the hypervisor in host A (`hypervisorHost: "hostA"`), so the
// emulator maps its ioreq server's pages and receives its events over the link between the two
// page-servers. argv[2]: JSON {nats, hv, xs, entries: {pageServer, deviceModel}, ioreqThread}.
// stdout: one JSON line {dm: "<device-model gRPC address>"} when ready; "stop" on stdin stops it.
import { createInterface } from "node:readline";
import { startHost } from "@xensim/runtime";

const arg = JSON.parse(process.argv[2]!) as {
  nats: string;
  hv: string;
  xs: string;
  entries: { pageServer: string; deviceModel: string };
  /** The device model's ioreq thread (default true); false: its event loop serves. */
  ioreqThread?: boolean;
};
const host = await startHost({
  hostId: "hostB",
  nats: arg.nats,
  services: [
    { name: "page-server", entry: arg.entries.pageServer, config: {} },
    {
      name: "device-model",
      entry: arg.entries.deviceModel,
      config: {
        roles: ["primary"],
        vcpu: 3,
        hypervisorHost: "hostA",
        hypervisor: arg.hv,
        xenstored: arg.xs,
        ioreqThread: arg.ioreqThread ?? true,
      },
    },
  ],
  sharedMemoryBytes: 64 * 1024 * 1024,
  logLevel: "error",
});
await host.ready;
console.log(JSON.stringify({ dm: host.services.get("device-model")!.grpcAddress }));
createInterface({ input: process.stdin }).on("line", (l) => {
  if (l.trim() !== "stop") return;
  void host.stop().then(() => process.exit(0));
});
