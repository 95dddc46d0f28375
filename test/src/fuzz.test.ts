// The HTTP API's fuzz target on a short fixed budget, with its seed printed (blkif requests, NBD and
// xl.cfg are in the `xensim fuzz` registry, packages/fuzz, whose tests run them). The long run:
// `node test/dist/fuzz/long.js` (docs/security.md has its counts).
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { type HostHandle, startHost } from "@xensim/runtime";
import { initKeys, loadApiToken } from "@xensim/security";
import { freePort, tempDir, testSeed } from "@xensim/testkit";
import { fuzzHttpApi } from "./fuzz/http-api.js";
import { serviceEntryPath } from "./harness.js";

const root = resolve(import.meta.dirname, "..", "..");

describe("fuzz targets (short fixed budget)", () => {
  describe("http-api", () => {
    const dir = tempDir("xensim-fuzz-api-");
    let host: HostHandle;
    let port: number;
    let token: string;
    before(async () => {
      const keys = join(dir.path, "keys");
      await initKeys(keys, { hosts: { fuzz: ["toolstack"] } });
      token = loadApiToken(keys);
      port = await freePort();
      host = await startHost({
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
              timeouts: {
                backendMs: 300,
                shutdownMs: 200,
                detachMs: 200,
                destroyDeviceMs: 100,
                reapMs: 2000,
              },
            },
          },
        ],
        sharedMemoryBytes: 128 << 20,
        logLevel: "error",
      });
      await host.ready;
    });
    after(async () => {
      await host?.stop();
      dir.cleanup();
    });
    it("300 raw requests: every one answered (no hang, no 5xx but a failed flow step), the API still serving", async () => {
      const seed = testSeed();
      const r = await fuzzHttpApi({ port, token, runs: 300, seed, root });
      console.log(
        `fuzz http-api: seed ${seed}, ${r.runs} requests in ${r.ms} ms, statuses ${JSON.stringify(r.statuses)}`,
      );
      assert.deepEqual(r.crashes, [], `seed ${seed}`);
      const ok = await fetch(`http://127.0.0.1:${port}/domains`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ok.status, 200);
      assert.equal(host.failures.length, 0);
    });
  });
});
