// The HTTP API's long fuzz run: `node test/dist/fuzz/long.js [--runs N] [--seed S]`, against an
// embedded host this process starts; one JSON line (runs, ms, statuses, crashes with their saved
// files). The other parsers' targets run with `npx xensim fuzz`.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startHost } from "@xensim/runtime";
import { initKeys, loadApiToken } from "@xensim/security";
import { freePort, tempDir } from "@xensim/testkit";
import { serviceEntryPath } from "../harness.js";
import { fuzzHttpApi } from "./http-api.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000000" },
    seed: { type: "string" },
    only: { type: "string" },
  },
});
const runs = Number(values.runs);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
const root = resolve(import.meta.dirname, "..", "..", "..");
{
  const dir = tempDir("xensim-fuzz-long-");
  const keys = join(dir.path, "keys");
  await initKeys(keys, { hosts: { fuzz: ["toolstack"] } });
  const port = await freePort();
  const host = await startHost({
    hostId: "fuzz",
    services: [
      { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
      { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
      {
        name: "toolstack",
        entry: serviceEntryPath("toolstack"),
        config: {
          hostMemoryMib: 64,
          api: { host: "127.0.0.1", port, tokenFile: join(keys, "api-token") },
          timeouts: { backendMs: 300, shutdownMs: 200, detachMs: 200, destroyDeviceMs: 100, reapMs: 2000 },
        },
      },
    ],
    sharedMemoryBytes: 128 << 20,
    logLevel: "error",
  });
  await host.ready;
  const r = await fuzzHttpApi({ port, token: loadApiToken(keys), runs, seed, root });
  const alive = (
    await fetch(`http://127.0.0.1:${port}/domains`, {
      headers: { authorization: `Bearer ${loadApiToken(keys)}` },
    })
  ).status;
  console.log(JSON.stringify({ ...r, aliveAfter: alive, hostFailures: host.failures.length }));
  await host.stop();
  dir.cleanup();
}
