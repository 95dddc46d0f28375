// blkback refuses disks outside its image directory itself (defence in depth behind the toolstack):
// hotplug-status "error" and an `error` node, as a failed hotplug script, and no byte of the file read.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { XenbusState } from "@xensim/abi";
import { waitFor } from "@xensim/testkit";
import { storeOpener } from "./service.js";
import { type Env, type Guest, startEnv } from "./testing/env.js";

describe("blkback disk confinement", () => {
  let env: Env;
  let guest: Guest;
  let root: string;
  let images: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "xensim-blkback-confine-"));
    images = join(root, "images");
    mkdirSync(images);
    writeFileSync(join(root, "secret"), "root-only bytes");
    symlinkSync(join(root, "secret"), join(images, "link.raw"));
    env = await startEnv({ blkback: { params: { fileDir: images } } });
    guest = await env.guest(16);
  });
  after(async () => {
    await env?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("storeOpener refuses traversal, absolute paths outside and symlink escapes", async () => {
    const open = storeOpener({
      fileDir: images,
      allowList: [],
      allowBlockDevices: false,
      allowFiles: true,
      maxMemoryBytes: 1 << 30,
    });
    for (const params of ["/etc/passwd", join(root, "secret"), "file:path=../secret", "file:path=link.raw"])
      await assert.rejects(open(params, "r"), /image directory|'\.\.'/, params);
    await assert.rejects(open("memory:size=2G", "w"), /larger than this host allows/);
  });

  let devSeq = 0;
  for (const params of ["/etc/passwd", "file:path=../secret", "file:path=link.raw"])
    it(`a vbd with params ${params}: hotplug-status error, error node, never Connected`, async () => {
      const dirs = await env.addVbd({ frontend: guest.domid, vdev: String(51712 + 16 * devSeq++), params });
      await waitFor(async () => (await env.xs.tryRead(`${dirs.backendPath}/hotplug-status`)) === "error", {
        timeoutMs: 5000,
        message: "hotplug-status error",
      });
      // blkback writes hotplug-status first, then the error node (xenbus_dev_fatal): wait for both.
      const errNode = `/local/domain/0/error/${dirs.backendPath.slice("/local/domain/0/".length)}/error`;
      await waitFor(async () => (await env.xs.tryRead(errNode)) !== undefined, {
        timeoutMs: 5000,
        message: "error node",
      });
      assert.match((await env.xs.read(errNode)) ?? "", /image directory|'\.\.'/);
      assert.notEqual(await env.xs.tryRead(`${dirs.backendPath}/state`), String(XenbusState.Connected));
      assert.equal(await env.xs.tryRead(`${dirs.backendPath}/sectors`), undefined);
    });
});
