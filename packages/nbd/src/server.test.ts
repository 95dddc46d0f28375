import { strict as assert } from "node:assert";
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { BlockStore } from "@xensim/blkif";
import { FaultStore, MemoryStore } from "@xensim/blkstore";
import { encodeRequest, NbdCmd, startNbdServer } from "./index.js";

const dir = await mkdtemp(join(tmpdir(), "nbd-test-"));
after(() => rm(dir, { recursive: true, force: true }));
let sockNo = 0;
const sockPath = () => join(dir, `s${sockNo++}.sock`);

const have = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;

function run(
  bin: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // cwd: fio writes verify state files into its working directory.
    execFile(bin, args, { cwd: dir, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A raw NBD client: does the fixed-newstyle GO for `name`, then returns the socket and a byte log. */
async function rawClient(path: string, name: string) {
  const sock = connect(path);
  const chunks: Buffer[] = [];
  let ended = false;
  sock.on("data", (b) => chunks.push(b));
  sock.on("end", () => (ended = true));
  sock.on("error", () => (ended = true));
  await new Promise<void>((r) => sock.once("connect", () => r()));
  const n = Buffer.from(name);
  const go = Buffer.alloc(16 + 4 + n.length + 2);
  go.write("IHAVEOPT", 0, "latin1");
  go.writeUInt32BE(7, 8);
  go.writeUInt32BE(4 + n.length + 2, 12);
  go.writeUInt32BE(n.length, 16);
  n.copy(go, 20);
  sock.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), go]));
  const all = () => Buffer.concat(chunks);
  const waitFor = async (pred: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  // greeting 18 + INFO(20+12) + ACK 20
  await waitFor(() => all().length >= 18 + 32 + 20);
  const base = 18 + 32 + 20;
  return { sock, replies: () => all().subarray(base), ended: () => ended, waitFor };
}

function fioJson(stdout: string): {
  jobs: { error: number; read: { io_bytes: number }; write: { io_bytes: number } }[];
} {
  return JSON.parse(stdout.slice(stdout.indexOf("{")));
}

describe("NbdServer with real clients", { timeout: 60_000 }, () => {
  it("nbdinfo --json: size and flags over a unix socket; a read-only export", async (t) => {
    if (!have("nbdinfo")) return t.skip("nbdinfo (libnbd-bin) not installed");
    const rw = new MemoryStore({ sizeBytes: 16 << 20 });
    const ro = new MemoryStore({ sizeBytes: 1 << 20, readonly: true });
    const srv = await startNbdServer({
      exports: new Map<string, BlockStore>([
        ["rw", rw],
        ["ro", ro],
      ]),
      listen: { path: sockPath() },
    });
    try {
      assert.match(srv.uri, /^nbd\+unix:\/\/\/rw\?socket=\/.*\.sock$/);
      const r = await run("nbdinfo", ["--json", srv.uri]);
      assert.equal(r.code, 0, r.stderr);
      const info = JSON.parse(r.stdout) as {
        protocol: string;
        structured: boolean;
        exports: Record<string, unknown>[];
      };
      assert.equal(info.protocol, "newstyle-fixed");
      const e = info.exports[0] as Record<string, unknown>;
      assert.equal(e["export-size"], 16 << 20);
      assert.equal(e["is_read_only"], false);
      assert.equal(e["can_flush"], true);
      assert.equal(e["can_fua"], true);
      assert.equal(e["can_trim"], true);
      assert.equal(e["can_zero"], true);
      const r2 = await run("nbdinfo", ["--json", srv.uriFor("ro")]);
      assert.equal(r2.code, 0, r2.stderr);
      const e2 = (JSON.parse(r2.stdout) as { exports: Record<string, unknown>[] }).exports[0] as Record<
        string,
        unknown
      >;
      assert.equal(e2["export-size"], 1 << 20);
      assert.equal(e2["is_read_only"], true);
      assert.equal(e2["can_trim"], false);
      const list = await run("nbdinfo", ["--list", "--json", srv.uri]);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(
        (JSON.parse(list.stdout) as { exports: { "export-name": string }[] }).exports
          .map((x) => x["export-name"])
          .sort(),
        ["ro", "rw"],
      );
      const missing = await run("nbdinfo", ["--json", srv.uriFor("nope")]);
      assert.notEqual(missing.code, 0);
    } finally {
      await srv.close();
    }
  });

  it("nbdcopy a random file in and back out over TCP", async (t) => {
    if (!have("nbdcopy")) return t.skip("nbdcopy (libnbd-bin) not installed");
    const store = new MemoryStore({ sizeBytes: 8 << 20 });
    const srv = await startNbdServer({
      exports: new Map([["disk", store]]),
      listen: { host: "127.0.0.1", port: 0 },
    });
    try {
      assert.ok("port" in srv.address && srv.address.port > 0);
      assert.equal(srv.uri, `nbd://127.0.0.1:${srv.address.port}/disk`);
      const src = join(dir, "in.bin");
      const dst = join(dir, "out.bin");
      const data = randomBytes(8 << 20);
      await writeFile(src, data);
      const up = await run("nbdcopy", [src, srv.uri]);
      assert.equal(up.code, 0, up.stderr);
      assert.ok(Buffer.from(store.bytes).equals(data), "store holds the file");
      const down = await run("nbdcopy", [srv.uri, dst]);
      assert.equal(down.code, 0, down.stderr);
      assert.ok((await readFile(dst)).equals(data), "copied back byte for byte");
    } finally {
      await srv.close();
    }
  });

  it("fio --ioengine=nbd randrw with crc32c verify, and four concurrent connections", async (t) => {
    if (!have("fio")) return t.skip("fio not installed");
    const store = new MemoryStore({ sizeBytes: 64 << 20 });
    let closed = 0;
    const srv = await startNbdServer({
      exports: new Map([["disk", store]]),
      listen: { path: sockPath() },
      onConnectionClosed: () => closed++,
    });
    try {
      const common = [
        "--ioengine=nbd",
        `--uri=${srv.uri}`,
        "--rw=randrw",
        "--bs=4k",
        "--iodepth=16",
        "--verify=crc32c",
        "--do_verify=1",
        "--verify_state_save=0",
        "--output-format=json",
      ];
      const one = await run("fio", ["--name=randrw", "--size=16m", ...common], 30_000);
      assert.equal(one.code, 0, one.stderr);
      const j = fioJson(one.stdout).jobs[0];
      assert.ok(j !== undefined);
      assert.equal(j.error, 0);
      assert.ok(j.read.io_bytes > 0 && j.write.io_bytes > 0, JSON.stringify(j.read.io_bytes));
      const before = closed;
      const four = await run(
        "fio",
        ["--name=multi", "--numjobs=4", "--size=4m", "--offset_increment=16m", ...common],
        30_000,
      );
      assert.equal(four.code, 0, four.stderr);
      const jobs = fioJson(four.stdout).jobs;
      assert.equal(jobs.length, 4);
      for (const job of jobs) assert.equal(job.error, 0);
      assert.ok(closed - before >= 4, `connections closed: ${closed - before}`);
    } finally {
      await srv.close();
    }
  });

  it("backpressure: a client that stops reading replies stops the server reading requests", async () => {
    const mem = new MemoryStore({ sizeBytes: 1 << 20 });
    let submitted = 0;
    const counting: BlockStore = {
      info: mem.info,
      submit: (io, done) => {
        submitted++;
        mem.submit(io, done);
      },
      close: () => mem.close(),
    };
    const path = sockPath();
    const srv = await startNbdServer({
      exports: new Map([["d", counting]]),
      listen: { path },
      maxInFlight: 8,
      closeTimeoutMs: 300,
    });
    try {
      const c = await rawClient(path, "d");
      c.sock.pause();
      const N = 2000;
      const LEN = 16384;
      const reqs = Buffer.concat(
        Array.from({ length: N }, (_, i) =>
          encodeRequest({ type: NbdCmd.READ, cookie: BigInt(i), offset: (i * LEN) % (1 << 20), length: LEN }),
        ),
      );
      c.sock.write(reqs);
      await new Promise((r) => setTimeout(r, 300));
      const whilePaused = submitted;
      assert.ok(
        whilePaused < N / 2,
        `server kept reading: ${whilePaused} of ${N} submitted while the client read nothing`,
      );
      c.sock.resume();
      await c.waitFor(() => c.replies().length >= N * (16 + LEN), 10_000);
      assert.equal(submitted, N);
      assert.equal(c.replies().length, N * (16 + LEN));
      c.sock.destroy();
      // A client that never reads cannot hold close() beyond closeTimeoutMs.
      const stuck = await rawClient(path, "d");
      stuck.sock.pause();
      stuck.sock.write(reqs);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await srv.close();
      assert.ok(Date.now() - t0 < 2000, `close took ${Date.now() - t0} ms`);
      stuck.sock.destroy();
    } finally {
      await srv.close();
    }
  });

  it("bad input never takes the server down; pipelined requests complete out of order; close() drains", async () => {
    const mem = new MemoryStore({ sizeBytes: 1 << 20 });
    mem.bytes.fill(0x5a, 0, 4096);
    const slow = new FaultStore(mem, { seed: 1 });
    const path = sockPath();
    const reasons: string[] = [];
    const srv = await startNbdServer({
      exports: new Map<string, BlockStore>([
        ["slow", slow],
        ["fast", mem],
      ]),
      listen: { path },
      onConnectionClosed: (r) => reasons.push(r),
    });
    // Garbage instead of client flags.
    const g = connect(path);
    g.on("error", () => {});
    g.resume();
    g.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((r) => g.on("close", () => r()));
    // Bad request magic after a good handshake.
    const b = await rawClient(path, "fast");
    b.sock.write(Buffer.alloc(28, 0xee));
    await b.waitFor(b.ended);
    assert.ok(
      reasons.includes("unknown client flags") && reasons.includes("bad request magic"),
      reasons.join(),
    );
    // Out of order: the first read waits 150 ms in the fault wrapper, the second is immediate.
    const c = await rawClient(path, "slow");
    slow.set({ latencyMs: 150 });
    c.sock.write(encodeRequest({ type: NbdCmd.READ, cookie: 1n, offset: 0, length: 512 }));
    await new Promise((r) => setTimeout(r, 20));
    slow.set({ latencyMs: 0 });
    c.sock.write(encodeRequest({ type: NbdCmd.READ, cookie: 2n, offset: 512, length: 512 }));
    await c.waitFor(() => c.replies().length >= 528);
    assert.equal(c.replies().readBigUInt64BE(8), 2n, "second request answered first");
    // Now a slow write in flight when close() is called: it is answered before the socket ends.
    slow.set({ latencyMs: 100 });
    c.sock.write(
      Buffer.concat([
        encodeRequest({ type: NbdCmd.WRITE, cookie: 3n, offset: 8192, length: 512 }),
        Buffer.alloc(512, 0x33),
      ]),
    );
    await new Promise((r) => setTimeout(r, 20));
    const closing = srv.close();
    await c.waitFor(c.ended, 3000);
    await closing;
    const rep = c.replies();
    assert.equal(rep.length, 3 * 16 + 1024);
    // Parse: simple replies; reads (cookies 1, 2) carry 512 bytes.
    const got = new Map<bigint, { error: number; data: Buffer }>();
    for (let o = 0; o < rep.length;) {
      assert.equal(rep.readUInt32BE(o), 0x67446698);
      const cookie = rep.readBigUInt64BE(o + 8);
      const n = cookie === 3n ? 0 : 512;
      got.set(cookie, { error: rep.readUInt32BE(o + 4), data: rep.subarray(o + 16, o + 16 + n) });
      o += 16 + n;
    }
    assert.deepEqual([...got.keys()].sort(), [1n, 2n, 3n]);
    assert.ok([...got.values()].every((x) => x.error === 0));
    assert.ok(
      got.get(1n)?.data.every((x) => x === 0x5a),
      "the slow read drained with its data",
    );
    assert.equal(mem.bytes[8192], 0x33, "the drained write reached the store");
    assert.equal(srv.connections, 0);
  });

  it("handshake timeout: a client that connects and says nothing is closed (issue 14)", async () => {
    const path = sockPath();
    const reasons: string[] = [];
    const srv = await startNbdServer({
      exports: new Map<string, BlockStore>([["d", new MemoryStore({ sizeBytes: 1 << 20 })]]),
      listen: { path },
      handshakeTimeoutMs: 200,
      onConnectionClosed: (r) => reasons.push(r),
    });
    try {
      const silent = connect(path);
      silent.on("error", () => {});
      silent.resume(); // reads the greeting, then sends nothing
      await new Promise<void>((r) => silent.on("close", () => r()));
      assert.deepEqual(reasons, ["handshake timeout"]);
      // one that finishes its handshake in time stays
      const c = await rawClient(path, "d");
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(c.ended(), false);
      assert.equal(srv.connections, 1);
      c.sock.destroy();
    } finally {
      await srv.close();
    }
  });

  it("a write announcing 4 GiB is refused at once, without reading or allocating its payload (issue 14)", async () => {
    const path = sockPath();
    const reasons: string[] = [];
    const mem = new MemoryStore({ sizeBytes: 1 << 20 });
    const srv = await startNbdServer({
      exports: new Map<string, BlockStore>([["d", mem]]),
      listen: { path },
      onConnectionClosed: (r) => reasons.push(r),
    });
    try {
      const c = await rawClient(path, "d");
      const before = process.memoryUsage().arrayBuffers;
      // length is a u32 on the wire: 0xffffffff = 4 GiB - 1; none of the payload follows
      c.sock.write(encodeRequest({ type: NbdCmd.WRITE, cookie: 9n, offset: 0, length: 0xffffffff }));
      await c.waitFor(c.ended, 5000);
      const rep = c.replies();
      assert.equal(rep.length, 16, "one simple reply");
      assert.equal(rep.readUInt32BE(0), 0x67446698);
      assert.equal(rep.readUInt32BE(4), 22, "NBD_EINVAL");
      assert.equal(rep.readBigUInt64BE(8), 9n);
      assert.match(reasons.join(), /write of 4294967295 bytes exceeds the maximum payload/);
      assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20, "no payload-sized allocation");
      // the server still serves others
      const d = await rawClient(path, "d");
      d.sock.write(encodeRequest({ type: NbdCmd.READ, cookie: 1n, offset: 0, length: 512 }));
      await d.waitFor(() => d.replies().length >= 16 + 512);
      assert.equal(d.replies().readUInt32BE(4), 0);
      d.sock.destroy();
    } finally {
      await srv.close();
    }
  });
});
