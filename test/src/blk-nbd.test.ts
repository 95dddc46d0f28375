// Real tools through the whole block path: the guest exports its blkfront disk over NBD (unix
// socket), and Debian's fio (--ioengine=nbd, verify=crc32c), nbdinfo and nbdcopy drive I/O through
// NBD → blkfront → ring → blkback → a raw image file, unmodified.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startNbdServer } from "@xensim/nbd";
import { type BlkHost, startBlkHost } from "./blk-harness.js";
import { haveBinary } from "./harness.js";

function run(bin: string, args: string[], cwd: string, timeoutMs = 60_000) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(bin, args, { cwd, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

describe("NBD export of a guest's blkfront disk (real fio, nbdinfo, nbdcopy)", () => {
  let h: BlkHost;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xensim-blk-nbd-"));
    h = await startBlkHost({
      maxRingPageOrder: 6,
      maxQueues: 4,
      maxIndirectSegments: 256,
      params: { fileDir: dir },
    });
  });
  after(async () => {
    await h?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("fio write-verify, nbdinfo and nbdcopy through blkfront → ring → blkback → raw image", async (t) => {
    for (const bin of ["fio", "nbdinfo", "nbdcopy"])
      if (!haveBinary(bin)) return t.skip(`${bin} not installed (CI installs fio and libnbd-bin)`);
    const image = join(dir, "disk.raw");
    const g = await h.guest("nbd-guest", 128);
    const devid = await h.addVbd({
      frontend: g.domid,
      vdev: "xvda",
      params: `file:path=${image},size=64M`,
    });
    const front = await g.kernel.openBlkfront(g.xs, devid, {
      config: { maxRingPageOrder: 2, maxQueues: 2, maxIndirectSegments: 64 },
    });
    const info = await front.whenConnected();
    assert.equal(info.sectors, (64 << 20) / 512);
    const srv = await startNbdServer({
      exports: new Map([["xvda", front]]),
      listen: { path: join(dir, "xvda.sock") },
    });
    try {
      const ni = await run("nbdinfo", ["--json", srv.uri], dir);
      assert.equal(ni.code, 0, ni.stderr);
      const exp = (JSON.parse(ni.stdout) as { exports: Array<{ "export-size": number }> }).exports[0]!;
      assert.equal(exp["export-size"], 64 << 20);

      const fio = await run(
        "fio",
        [
          "--name=guest-disk",
          "--ioengine=nbd",
          `--uri=${srv.uri}`,
          "--rw=randrw",
          "--bs=4k",
          "--iodepth=16",
          "--size=16m",
          "--verify=crc32c",
          "--do_verify=1",
          "--verify_state_save=0",
          "--output-format=json",
        ],
        dir,
      );
      assert.equal(fio.code, 0, fio.stderr);
      const job = (
        JSON.parse(fio.stdout.slice(fio.stdout.indexOf("{"))) as {
          jobs: Array<{ error: number; read: { io_bytes: number }; write: { io_bytes: number } }>;
        }
      ).jobs[0]!;
      assert.equal(job.error, 0);
      assert.ok(job.read.io_bytes > 0 && job.write.io_bytes > 0);

      // nbdcopy a file onto the disk and the disk back: equal byte for byte, and on the image itself.
      const data = randomBytes(8 << 20);
      const src = join(dir, "src.bin");
      const back = join(dir, "back.bin");
      await writeFile(src, data);
      const up = await run("nbdcopy", [src, srv.uri], dir);
      assert.equal(up.code, 0, up.stderr);
      const down = await run("nbdcopy", [srv.uri, back], dir); // the whole 64 MiB disk
      assert.equal(down.code, 0, down.stderr);
      const copied = await readFile(back);
      assert.equal(copied.length, 64 << 20);
      assert.ok(copied.subarray(0, 8 << 20).equals(data), "copied back byte for byte");
      await front.idle();
      const onImage = (await readFile(image)).subarray(0, 8 << 20);
      assert.ok(onImage.equals(data), "the raw image file holds the bytes");
      assert.equal(front.stats.protocolErrors, 0);
    } finally {
      await srv.close();
      await front.close();
    }
  });
});
