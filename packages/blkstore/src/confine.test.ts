// Disk confinement (issue 14): traversal, absolute paths, symlink escapes, device types — refused
// lexically and again on the file system when the store opens.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkDiskPath,
  checkDiskPathSync,
  type DiskPolicy,
  DiskPolicyError,
  FileStore,
  openStore,
  resolveDiskPath,
} from "./index.js";

describe("disk confinement", () => {
  let root: string;
  let images: string;
  let outside: string;
  let policy: DiskPolicy;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "xensim-confine-"));
    images = join(root, "images");
    outside = join(root, "outside");
    mkdirSync(join(images, "sub"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(images, "ok.raw"), Buffer.alloc(4096));
    writeFileSync(join(outside, "secret"), Buffer.alloc(4096, 0x5a));
    symlinkSync(join(outside, "secret"), join(images, "escape.raw"));
    symlinkSync(outside, join(images, "outdir"));
    symlinkSync(join(images, "ok.raw"), join(images, "sub", "inner-link.raw"));
    policy = { imageDir: images, allowList: [], allowBlockDevices: false };
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("lexical: relative paths join the image directory; '..', absolute outside, control chars refused", () => {
    assert.equal(resolveDiskPath("ok.raw", policy), join(images, "ok.raw"));
    assert.equal(resolveDiskPath("sub/x.raw", policy), join(images, "sub", "x.raw"));
    assert.equal(resolveDiskPath(join(images, "ok.raw"), policy), join(images, "ok.raw"));
    for (const [p, why] of [
      ["../../x", /contains '\.\.'/],
      ["sub/../../x", /contains '\.\.'/],
      [`${images}/../outside/secret`, /contains '\.\.'/],
      ["/etc/passwd", /outside the image directory/],
      [images, /outside the image directory/], // the directory itself is not a disk
      [`${images}-evil/x.raw`, /outside the image directory/], // a sibling sharing the prefix
      ["a\0b", /control characters/],
      ["", /empty/],
    ] as const)
      assert.throws(
        () => resolveDiskPath(p, policy),
        (e: unknown) => e instanceof DiskPolicyError && why.test(e.message),
        p,
      );
    // no image directory: only the allow-list
    const listOnly: DiskPolicy = {
      imageDir: "",
      allowList: [join(outside, "secret")],
      allowBlockDevices: false,
    };
    assert.equal(resolveDiskPath(join(outside, "secret"), listOnly), join(outside, "secret"));
    assert.throws(() => resolveDiskPath("ok.raw", listOnly), /needs an image directory/);
    assert.throws(
      () => resolveDiskPath(join(images, "ok.raw"), listOnly),
      /not on the host's disk allow-list/,
    );
  });

  it("on the file system: a symlink leading out is refused, one staying inside is fine", async () => {
    assert.equal(await checkDiskPath("ok.raw", policy), join(images, "ok.raw"));
    assert.equal(await checkDiskPath("sub/inner-link.raw", policy), join(images, "sub", "inner-link.raw"));
    assert.equal(await checkDiskPath("new.raw", policy), join(images, "new.raw")); // missing: its directory counts
    await assert.rejects(checkDiskPath("escape.raw", policy), /a symlink leads out/);
    await assert.rejects(checkDiskPath("outdir/secret", policy), /a symlink leads out/);
    await assert.rejects(checkDiskPath("outdir/new.raw", policy), /a symlink leads out/);
    assert.throws(() => checkDiskPathSync("escape.raw", policy), /a symlink leads out/);
    assert.throws(() => checkDiskPathSync("outdir/new.raw", policy), /a symlink leads out/);
    assert.equal(checkDiskPathSync("sub/inner-link.raw", policy), join(images, "sub", "inner-link.raw"));
  });

  it("FileStore.open with a policy: the escaping symlink is refused and the outside file untouched", async () => {
    await assert.rejects(FileStore.open({ path: "escape.raw", policy }), DiskPolicyError);
    await assert.rejects(
      FileStore.open({ path: "outdir/new.raw", sizeBytes: 4096, policy }),
      DiskPolicyError,
    );
    assert.equal(existsSync(join(outside, "new.raw")), false, "nothing created outside");
    await assert.rejects(openStore("file:path=../outside/secret", { diskPolicy: policy }), /contains '\.\.'/);
    await assert.rejects(
      openStore(`file:path=${join(outside, "secret")}`, { diskPolicy: policy }),
      /outside/,
    );
    // inside: opens, and creates a missing image with its size
    const s = await FileStore.open({ path: "sub/made.raw", sizeBytes: 8192, policy });
    assert.equal(s.info.sectors, 16);
    await s.close();
    assert.equal(statSync(join(images, "sub", "made.raw")).size, 8192);
    const t = await openStore("file:path=ok.raw", { diskPolicy: policy });
    assert.equal(t.info.sectors, 8);
    await t.close();
  });

  it("device files: character devices refused even when allow-listed; block devices only when allowed", async () => {
    const dev: DiskPolicy = { imageDir: images, allowList: ["/dev/null"], allowBlockDevices: true };
    await assert.rejects(checkDiskPath("/dev/null", dev), /a character device/);
    await assert.rejects(FileStore.open({ path: "/dev/null", policy: dev }), /a character device/);
    await assert.rejects(checkDiskPath("sub", policy), /a directory/);
  });

  it("a block device is refused unless the host allows block devices", async (t) => {
    let block = existsSync("/dev")
      ? readdirSync("/dev")
          .map((n) => join("/dev", n))
          .find((p) => {
            try {
              return statSync(p).isBlockDevice();
            } catch {
              return false;
            }
          })
      : undefined;
    // A container's /dev may have none: as root, make a node of our own (only its type is looked at)
    let node = block;
    if (node === undefined && process.getuid?.() === 0) {
      const dir = mkdtempSync(join(tmpdir(), "xensim-blk-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const made = join(dir, "loop-node");
      if (spawnSync("mknod", [made, "b", "7", "0"]).status === 0) node = made;
    }
    if (node === undefined) return t.skip("no block device node in /dev, and not root to make one");
    block = node;
    const no: DiskPolicy = { imageDir: "", allowList: [block], allowBlockDevices: false };
    await assert.rejects(checkDiskPath(block, no), /block device, and the host does not allow block devices/);
    const yes: DiskPolicy = { ...no, allowBlockDevices: true };
    assert.equal(await checkDiskPath(block, yes), block);
  });

  it("a store larger than the host allows in memory is refused before it allocates", async () => {
    await assert.rejects(
      openStore("memory:size=100G", { maxMemoryBytes: 1 << 30 }),
      /larger than this host allows/,
    );
    await assert.rejects(
      openStore("array:profile=iscsi-array,size=100G,seed=1", { maxMemoryBytes: 1 << 30 }),
      /larger than this host allows/,
    );
    const n = await openStore("null:size=100G", { maxMemoryBytes: 1 << 30 }); // allocates nothing
    assert.equal(n.info.sectors, (100 * 1024 ** 3) / 512);
    await n.close();
  });
});
