// Differential tests against the reference: Debian's oxenstored (xen-utils-4.17) runs here with an
// LD_PRELOAD shim compiled by the test (test/src/fixtures/oxenstored-shim.c). The same request
// script goes to both daemons over their unix sockets and the replies are compared; every
// difference must be one of the documented ones below (a new one fails the test). Then the same
// READ flood that never reads its replies goes to both: both stop reading it (XSA-326 fixed both).
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sleep, tempDir, waitFor } from "@xensim/testkit";
import { acceptsConnections, haveBinary, REPO_ROOT, rssBytes, startXenstored } from "./harness.js";

const OXENSTORED = "/usr/lib/xen-4.17/bin/oxenstored";
const MB = 1024 * 1024;
const skip =
  !existsSync(OXENSTORED) || !haveBinary("gcc") ? "needs oxenstored (xen-utils-4.17) and gcc" : false;

const XS = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  IS_DOMAIN_INTRODUCED: 17,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
  GET_QUOTA: 25,
  SET_QUOTA: 26,
} as const;

function packet(type: number, reqId: number, txId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(reqId, 4);
  h.writeUInt32LE(txId, 8);
  h.writeUInt32LE(payload.length, 12);
  return Buffer.concat([h, payload]);
}
const strs = (...parts: string[]) => Buffer.from(parts.map((p) => `${p}\0`).join(""), "latin1");
const writePayload = (path: string, value: string) => Buffer.from(`${path}\0${value}`, "latin1");

/** A raw xs client: one request at a time, watch events skipped. */
class RawClient {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private constructor(private readonly sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
  }
  static open(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once("connect", () => resolve(new RawClient(sock)));
      sock.once("error", reject);
    });
  }
  async request(
    type: number,
    txId: number,
    payload: Buffer,
    reqId: number,
  ): Promise<{ type: number; payload: string }> {
    this.sock.write(packet(type, reqId, txId, payload));
    for (;;) {
      while (this.buf.length >= 16 && this.buf.length >= 16 + this.buf.readUInt32LE(12)) {
        const len = this.buf.readUInt32LE(12);
        const msg = {
          type: this.buf.readUInt32LE(0),
          reqId: this.buf.readUInt32LE(4),
          payload: this.buf.subarray(16, 16 + len).toString("latin1"),
        };
        this.buf = this.buf.subarray(16 + len);
        if (msg.type !== 15 && msg.reqId === reqId) return { type: msg.type, payload: msg.payload };
      }
      await Promise.race([
        new Promise<void>((r) => (this.waiter = r)),
        sleep(5000).then(() => {
          throw new Error(`no reply to request ${reqId}`);
        }),
      ]);
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

/** One step: a request, with `tx` naming the transaction a TRANSACTION_START saved. */
interface Step {
  name: string;
  type: number;
  payload: Buffer;
  tx?: string;
  saveTx?: string;
}

const LONG = "x".repeat(300);
const SCRIPT: Step[] = [
  { name: "write", type: XS.WRITE, payload: writePayload("/t/a", "1") },
  { name: "read", type: XS.READ, payload: strs("/t/a") },
  { name: "read missing", type: XS.READ, payload: strs("/t/none") },
  { name: "mkdir", type: XS.MKDIR, payload: strs("/t/d") },
  { name: "directory", type: XS.DIRECTORY, payload: strs("/t") },
  { name: "get perms", type: XS.GET_PERMS, payload: strs("/t/a") },
  { name: "set perms", type: XS.SET_PERMS, payload: strs("/t/a", "n0", "r5") },
  { name: "get perms after", type: XS.GET_PERMS, payload: strs("/t/a") },
  { name: "set perms bad", type: XS.SET_PERMS, payload: strs("/t/a", "q0") },
  { name: "bad path //", type: XS.READ, payload: strs("/t//a") },
  { name: "bad path trailing /", type: XS.READ, payload: strs("/t/") },
  { name: "bad char", type: XS.WRITE, payload: writePayload("/t/a b", "1") },
  { name: "rm", type: XS.RM, payload: strs("/t/d") },
  { name: "rm missing, parent there", type: XS.RM, payload: strs("/t/none") },
  { name: "rm missing parent", type: XS.RM, payload: strs("/none/x") },
  { name: "watch", type: XS.WATCH, payload: strs("/t", "tok") },
  { name: "watch again", type: XS.WATCH, payload: strs("/t", "tok") },
  { name: "unwatch", type: XS.UNWATCH, payload: strs("/t", "tok") },
  { name: "unwatch missing", type: XS.UNWATCH, payload: strs("/t", "tok") },
  { name: "tx start", type: XS.TRANSACTION_START, payload: strs(""), saveTx: "t1" },
  { name: "tx write", type: XS.WRITE, payload: writePayload("/t/b", "2"), tx: "t1" },
  { name: "tx read outside", type: XS.READ, payload: strs("/t/b") },
  { name: "tx commit", type: XS.TRANSACTION_END, payload: strs("T"), tx: "t1" },
  { name: "tx read after", type: XS.READ, payload: strs("/t/b") },
  { name: "tx end bad arg", type: XS.TRANSACTION_START, payload: strs(""), saveTx: "t2" },
  { name: "tx end X", type: XS.TRANSACTION_END, payload: strs("X"), tx: "t2" },
  { name: "unknown tx", type: XS.READ, payload: strs("/t/a"), tx: "bogus" },
  { name: "domain path", type: XS.GET_DOMAIN_PATH, payload: strs("7") },
  { name: "domain path not a number", type: XS.GET_DOMAIN_PATH, payload: strs("abc") },
  { name: "is introduced", type: XS.IS_DOMAIN_INTRODUCED, payload: strs("0") },
  { name: "big value 2048", type: XS.WRITE, payload: writePayload("/t/big", "v".repeat(2048)) },
  { name: "read big", type: XS.READ, payload: strs("/t/big") },
  ...Array.from({ length: 16 }, (_, i) => ({
    name: `long child ${i}`,
    type: XS.WRITE,
    payload: writePayload(`/t/l/${LONG}${i}`, ""),
  })),
  { name: "directory over 4096 bytes", type: XS.DIRECTORY, payload: strs("/t/l") },
  { name: "directory part", type: XS.DIRECTORY_PART, payload: strs("/t/l", "0") },
  { name: "reset watches", type: XS.RESET_WATCHES, payload: strs("") },
  { name: "get quota", type: XS.GET_QUOTA, payload: strs("nodes") },
  { name: "set quota", type: XS.SET_QUOTA, payload: strs("nodes", "5") },
  { name: "unknown type", type: 30, payload: strs("x") },
  { name: "rm root", type: XS.RM, payload: strs("/") },
];

/**
 * Where the two differ, and why (oxenstored's deviations named in REAL-PEERS.md and the fact sheet;
 * C xenstored's behaviour is the one xensim follows).
 */
const KNOWN_DIFFERENCES: Record<string, string> = {
  "domain path not a number":
    "oxenstored answers /local/domain/0 (atoi); C xenstored's parse_domid gives EINVAL",
  "unknown tx": "oxenstored answers EIO for an unknown transaction; C xenstored ENOENT",
  "directory part": "oxenstored 4.17 lacks DIRECTORY_PART (ENOSYS)",
  "reset watches": "oxenstored 4.17 lacks RESET_WATCHES (ENOSYS)",
  "get quota": "oxenstored 4.17 lacks GET_QUOTA (ENOSYS); xensim implements it as C xenstored (4.21)",
  "set quota": "oxenstored 4.17 lacks SET_QUOTA (ENOSYS); xensim implements it as C xenstored (4.21)",
  "rm root": "oxenstored allows rm /; C xenstored answers EINVAL",
  "is introduced":
    "oxenstored runs with --no-domain-init here, so dom0 is not introduced; xensim introduces dom0 as C xenstored does",
  "directory over 4096 bytes":
    "oxenstored sends a 4837-byte payload (over XENSTORE_PAYLOAD_MAX); C xenstored answers E2BIG",
};

async function runScript(socket: string): Promise<Map<string, string>> {
  const client = await RawClient.open(socket);
  const txs = new Map<string, number>([["bogus", 4711]]);
  const out = new Map<string, string>();
  let reqId = 1;
  for (const step of SCRIPT) {
    const tx = step.tx ? (txs.get(step.tx) ?? 0) : 0;
    const r = await client.request(step.type, tx, step.payload, reqId++);
    const text =
      r.type === 16 ? `!${r.payload.replace(/\0$/, "")}` : r.payload.replace(/\0$/, "").replace(/\0/g, "|");
    out.set(step.name, text.length > 80 ? `${text.slice(0, 40)}…(${text.length})` : text);
    if (step.saveTx && r.type !== 16) txs.set(step.saveTx, Number(r.payload.replace(/\0$/, "")));
  }
  client.close();
  return out;
}

interface Oxenstored {
  proc: ChildProcess;
  socket: string;
}

async function startOxenstored(dir: string): Promise<Oxenstored> {
  const shim = join(dir, "oxenstored-shim.so");
  const cc = spawnSync(
    "gcc",
    ["-shared", "-fPIC", "-o", shim, join(REPO_ROOT, "test", "src", "fixtures", "oxenstored-shim.c"), "-ldl"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(cc.status, 0, cc.stderr);
  const conf = join(dir, "oxenstored.conf");
  const socket = join(dir, "oxenstored.sock");
  spawnSync("sh", [
    "-c",
    `printf 'quota-activate = true\\nquota-maxentity = 1000\\nquota-maxsize = 2048\\nquota-maxwatch = 100\\nquota-transaction = 10\\npersistent = false\\n' > ${conf}`,
  ]);
  const proc = spawn(
    OXENSTORED,
    [
      "--no-fork",
      "--no-domain-init",
      "--config-file",
      conf,
      "--pid-file",
      join(dir, "pid"),
      "--no-access-log",
    ],
    {
      env: { ...process.env, LD_PRELOAD: shim, OXS_SOCKET: socket },
      stdio: "ignore",
    },
  );
  await waitFor(
    async () => proc.exitCode !== null || (existsSync(socket) && (await acceptsConnections(socket))),
    {
      timeoutMs: 10_000,
      message: "oxenstored socket",
    },
  );
  assert.equal(proc.exitCode, null, "oxenstored is running");
  return { proc, socket };
}

describe("xenstored against oxenstored (differential)", { skip }, () => {
  const dir = tempDir("xensim-oxenstored-");
  after(() => dir.cleanup());

  it("the same request script gets the same replies, except the documented oxenstored deviations", async (t) => {
    const ox = await startOxenstored(dir.path);
    t.after(() => ox.proc.kill("SIGKILL"));
    const ours = await startXenstored({ socket: join(dir.path, "xensim.sock") });
    t.after(() => ours.kill9());
    const [a, b] = [await runScript(join(dir.path, "xensim.sock")), await runScript(ox.socket)];
    const differing: string[] = [];
    for (const step of SCRIPT) {
      if (a.get(step.name) === b.get(step.name)) continue;
      differing.push(step.name);
      t.diagnostic(
        `${step.name}: xensim ${JSON.stringify(a.get(step.name))}, oxenstored ${JSON.stringify(b.get(step.name))}`,
      );
    }
    t.diagnostic(`${SCRIPT.length - differing.length} of ${SCRIPT.length} replies identical`);
    const unexplained = differing.filter((n) => !(n in KNOWN_DIFFERENCES));
    assert.deepEqual(unexplained, [], "differences not documented in KNOWN_DIFFERENCES");
  });

  it("XSA-326 in both: a READ flood that never reads its replies is stalled by both daemons", async (t) => {
    const ox = await startOxenstored(dir.path);
    t.after(() => ox.proc.kill("SIGKILL"));
    const oursSocket = join(dir.path, "xensim-flood.sock");
    const ours = await startXenstored({ socket: oursSocket });
    t.after(() => ours.kill9());
    const results: Record<string, { accepted: number; rssMb: number }> = {};
    for (const [name, socket, pid] of [
      ["xensim", oursSocket, ours.pid],
      ["oxenstored", ox.socket, ox.proc.pid!],
    ] as const) {
      const setup = await RawClient.open(socket);
      await setup.request(XS.WRITE, 0, writePayload("/big", "a".repeat(2000)), 1);
      setup.close();
      const flooder = await new Promise<Socket>((resolve) => {
        const s = connect(socket, () => resolve(s));
      });
      flooder.pause();
      const batch = Buffer.concat(
        Array.from({ length: 2000 }, (_, i) => packet(XS.READ, i, 0, strs("/big"))),
      );
      let accepted = 0;
      let last = Date.now();
      const started = Date.now();
      while (Date.now() - started < 15_000 && Date.now() - last < 1500) {
        if (flooder.writableLength === 0) {
          flooder.write(batch);
          accepted += batch.length;
          last = Date.now();
        } else await sleep(20);
      }
      results[name] = { accepted, rssMb: Math.round(rssBytes(pid) / MB) };
      flooder.destroy();
    }
    t.diagnostic(
      `READ flood, request bytes taken before the daemon stopped reading / RSS: ${JSON.stringify(results)}`,
    );
    assert.ok(results.xensim!.accepted < 64 * MB, "xensim stopped reading the flooder");
    assert.ok(results.xensim!.rssMb < 300);
  });
});
