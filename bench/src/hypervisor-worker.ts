// The worker thread of `xensim bench hypervisor`. Two modes (workerData.mode):
//   - "floor-wait" / "floor-waitasync": a bare Atomics ping-pong. Int32 0 is the main thread's
//     sequence number, Int32 1 the worker's echo of it; the worker sleeps on 0 (Atomics.wait, or
//     Atomics.waitAsync with a live timer handle), copies it to 1 and notifies. -1 stops it.
//   - "evtchn": domain B's receiver. Its own XenCtrl on the host's SharedArrayBuffer (no calls:
//     evtchnNotify and waitForEvents are atomics), waitForEvents(B) with Atomics wake-ups, and each
//     event on `inPort` answered with evtchnNotify(`replyPort`) (B → A, the second channel).
import { parentPort, workerData } from "node:worker_threads";
import type { CallClient } from "@xensim/bus";
import { XenCtrl } from "@xensim/xenctrl";

export type HypervisorWorkerData =
  | { mode: "floor-wait" | "floor-waitasync"; sab: SharedArrayBuffer }
  | { mode: "evtchn"; sab: SharedArrayBuffer; domid: number; inPort: number; replyPort: number };

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const noCalls: CallClient = {
  call() {
    return Promise.reject(new Error("the bench worker makes no hypervisor calls"));
  },
  close() {},
} as unknown as CallClient;

const d = workerData as HypervisorWorkerData;
const port = parentPort!;

if (d.mode === "floor-wait") {
  const i32 = new Int32Array(d.sab);
  port.postMessage("ready");
  let last = 0;
  for (;;) {
    const v = Atomics.load(i32, 0);
    if (v === -1) break;
    if (v !== last) {
      last = v;
      Atomics.store(i32, 1, v);
      Atomics.notify(i32, 1);
      continue;
    }
    Atomics.wait(i32, 0, v);
  }
  port.close();
} else if (d.mode === "floor-waitasync") {
  const i32 = new Int32Array(d.sab);
  // A pending waitAsync does not keep a Node 20 worker alive: hold a timer while waiting.
  const keepAlive = setInterval(() => {}, 60_000);
  port.postMessage("ready");
  let last = 0;
  for (;;) {
    const v = Atomics.load(i32, 0);
    if (v === -1) break;
    if (v !== last) {
      last = v;
      Atomics.store(i32, 1, v);
      Atomics.notify(i32, 1);
      continue;
    }
    const r = waitAsync(i32, 0, v);
    if (r.async) await r.value;
  }
  clearInterval(keepAlive);
  port.close();
} else if (d.mode === "evtchn") {
  const e = d;
  const x = new XenCtrl({ domid: e.domid, calls: noCalls, store: e.sab });
  let handled = 0;
  const rx = x.waitForEvents(
    e.domid,
    (p) => {
      if (p !== e.inPort) return;
      handled++;
      const rc = x.evtchnNotify(e.replyPort);
      if (rc !== 0) throw new Error(`evtchnNotify(${e.replyPort}) = ${rc}`);
    },
    { slowScanMs: 60_000 },
  );
  port.on("message", (m: unknown) => {
    if (m !== "stop") return;
    rx.close();
    x.close();
    port.postMessage({ handled, dispatched: rx.dispatched, scans: rx.scans });
    port.close();
  });
  port.postMessage("ready");
}
