// What the trace tests share: a `xensim trace` listener as a child process, and the one write's
// events picked out of a trace in the order issue 15 names.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { compareTraceEvents, type TraceEvent } from "@xensim/trace";
import { XENSIM_BIN } from "./harness.js";

export interface Listener {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

export function listen(args: string[], env: Record<string, string> = {}): Listener {
  const proc = spawn(process.execPath, [XENSIM_BIN, "trace", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** The events of a JSON trace, in the order printed. */
export function events(l: Listener): TraceEvent[] {
  return l
    .stdout()
    .split("\n")
    .filter((x) => x.length > 0)
    .map((x) => JSON.parse(x) as TraceEvent);
}

/**
 * The one write's events in the order the issue names: from its ring request on, the first kick on
 * its port, blkback's map of its gref, the store write, the response and the completion of its id.
 */
export function oneWrite(evs: readonly TraceEvent[], domid: number): Record<string, number> {
  const at: Record<string, number> = {};
  const req = evs.findIndex(
    (e) => e.kind === "ring" && e.op === "request" && e.domid === domid && e.operation === "write",
  );
  assert.ok(req >= 0, "a ring request of the write");
  at.request = req;
  const r = evs[req]!;
  const gref = (r.grefs as number[])[0];
  const after = (from: number, pred: (e: TraceEvent) => boolean, what: string) => {
    const i = evs.findIndex((e, k) => k > from && pred(e));
    assert.ok(i > from, `${what} after index ${from}`);
    return i;
  };
  at.kick = after(
    req,
    (e) => e.kind === "evtchn" && e.op === "send" && e.domid === domid && e.port === r.evtchn,
    "kick",
  );
  at.map = after(
    req,
    (e) => e.kind === "grant" && e.op === "map" && e.peer === domid && e.ref === gref,
    "grant map",
  );
  at.store = after(req, (e) => e.kind === "store" && e.op === "write" && e.peer === domid, "store write");
  at.response = after(
    req,
    (e) => e.kind === "ring" && e.op === "response" && e.peer === domid && e.id === r.id,
    "response",
  );
  at.completion = after(
    req,
    (e) => e.kind === "ring" && e.op === "completion" && e.domid === domid && e.id === r.id,
    "completion",
  );
  return at;
}

/** The order issue 15 asks for, as oneWrite's keys. */
export const WRITE_ORDER = ["request", "kick", "map", "store", "response", "completion"];

/** A guest whose workload is one 4 KiB write; persistent grants off, so blkback maps for it. */
export const ONE_WRITE_CFG = [
  'name = "one"',
  "memory = 64",
  "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=8M' ]",
  'xensim_blkfront = "persistent=0"',
  'xensim_workload = "rw=write,bs=4k,iodepth=1,number_ios=1"',
  "",
].join("\n");

/**
 * The stream is in clock order except for events that reached the listener after its ordering
 * window (marked `late`, never dropped); returns the events in clock order.
 */
export function inClockOrder(evs: readonly TraceEvent[]): TraceEvent[] {
  let newest = Number.NEGATIVE_INFINITY;
  for (const e of evs) {
    if (e.t < newest)
      assert.equal(e.late, true, `an event out of order is marked late: ${JSON.stringify(e)}`);
    else newest = e.t;
  }
  return [...evs].sort(compareTraceEvents);
}
