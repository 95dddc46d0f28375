// The page-server's call API through the runtime, in-process: a domain writes only frames it owns
// (or has mapped writable); dom0 and privileged domains may write any frame.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createInProcessCallClient } from "@xensim/bus";
import { PageStore } from "@xensim/memory";
import { loadPageServerProto } from "@xensim/proto";
import { bootService, type BootedService } from "@xensim/runtime";
import { pageServerService } from "./service.js";

describe("page-server WriteFrames permissions", () => {
  const sab = new SharedArrayBuffer(4096 * 1024);
  let booted: BootedService;
  let store: PageStore;
  const name = `page-server-perm-${process.pid}`;
  before(async () => {
    booted = await bootService(pageServerService as never, {
      hostId: "perm-test",
      name,
      config: { frames: 1024 },
      sharedMemory: sab,
      bus: { kind: "inprocess", name: `bus-${name}` },
      logLevel: "silent",
    });
    store = PageStore.attachOrCreate(sab);
    store.createDomain(5, { maxPages: 16 });
    store.createDomain(6, { maxPages: 16 });
  });
  after(async () => {
    await booted.shutdown();
  });

  it("lets the owner and dom0 write, refuses another unprivileged domain and changes nothing", async () => {
    const calls = createInProcessCallClient(
      loadPageServerProto().xensim.pageserver.v1.PageServer.service,
      name,
    );
    try {
      const frame = store.allocFrame(5);
      assert.ok(frame, "frame for domain 5");
      const write = (caller: number, byte: number) =>
        calls.call("WriteFrames", { caller, writes: [{ frame, offset: 8, data: Buffer.from([byte]) }] });
      await write(5, 0x55);
      assert.equal(store.viewOfFrames([frame]).getU8(8), 0x55);
      await write(0, 0x00);
      assert.equal(store.viewOfFrames([frame]).getU8(8), 0x00);
      await assert.rejects(write(6, 0x66), { code: 7 });
      assert.equal(store.viewOfFrames([frame]).getU8(8), 0x00);
    } finally {
      calls.close();
    }
  });
});
