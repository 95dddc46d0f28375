// Worker for the per-vCPU receiver test: a receiver scans one vCPU of a domain (waiting on that
// vCPU's wake word, the Int32 holding its evtchn_upcall_pending), or the sender sends on a
// schedule of channels (counting into a shared word before each send, as a ring producer does).
import { parentPort, workerData } from "node:worker_threads";
import { PAGE_SIZE, PageStore } from "@xensim/memory";
import { EventChannels } from "../event-channels.js";
import { scanPending } from "../two-level.js";

export interface Channel {
  /** The sender's port. */
  send: number;
  /** The receiving domain's port. */
  recv: number;
  /** The receiving port's notify vCPU. */
  vcpu: number;
}

export interface VcpuJob {
  buffer: SharedArrayBuffer;
  role: "sender" | "receiver";
  /** The receiving domain; receiver: the vCPU it scans. */
  domid: number;
  vcpu: number;
  /** sender: the sending domain and the channels (indices) it sends on, in order. */
  sender: number;
  schedule: number[];
  channels: Channel[];
  /** sender: wait for the receiver's acknowledgement after each send. */
  pingpong: boolean;
  /** Int32 words: [0] done, [1] dispatched by a receiver that does not own the port, [2] unknown ports; channel i at 4 + 4i: produced, consumed, dispatched, ack. */
  counters: SharedArrayBuffer;
}

const chan = (i: number) => 4 + 4 * i;

const job = workerData as VcpuJob;
const c = new Int32Array(job.counters);
const store = PageStore.attach(job.buffer);
const wakeIdx = (ev: EventChannels, vcpu: number) =>
  (ev.sharedInfo(job.domid).frames[0]! * PAGE_SIZE + vcpu * 64) / 4;
const deadline = Date.now() + 30_000;

if (job.role === "sender") {
  const ev: EventChannels = new EventChannels(store, {
    notify: (_d, v) => Atomics.notify(store.i32, wakeIdx(ev, v)),
  });
  let stuck = false;
  for (const i of job.schedule) {
    const ch = job.channels[i]!;
    const ack = Atomics.load(c, chan(i) + 3);
    Atomics.add(c, chan(i), 1);
    if (ev.evtchnSend(job.sender, ch.send) !== 0) throw new Error("send failed");
    if (job.pingpong)
      while (Atomics.load(c, chan(i) + 3) === ack) {
        if (Date.now() > deadline) {
          stuck = true;
          break;
        }
        Atomics.wait(c, chan(i) + 3, ack, 50);
      }
    if (stuck) break;
  }
  Atomics.store(c, 0, 1);
  for (const v of new Set(job.channels.map((ch) => ch.vcpu))) Atomics.notify(store.i32, wakeIdx(ev, v));
  parentPort!.postMessage({ stuck });
} else {
  const ev = new EventChannels(store);
  const si = ev.sharedInfo(job.domid);
  const wake = wakeIdx(ev, job.vcpu);
  const owner = ev.portVcpuReader(job.domid);
  const byPort = new Map(job.channels.map((ch, i) => [ch.recv, i]));
  const mine = job.channels.flatMap((ch, i) => (ch.vcpu === job.vcpu ? [i] : []));
  const handler = (port: number) => {
    const i = byPort.get(port);
    if (i === undefined) {
      Atomics.add(c, 2, 1);
      return;
    }
    if (job.channels[i]!.vcpu !== job.vcpu) Atomics.add(c, 1, 1);
    // Everything produced before the send is visible now.
    Atomics.store(c, chan(i) + 1, Atomics.load(c, chan(i)));
    Atomics.add(c, chan(i) + 2, 1);
    Atomics.add(c, chan(i) + 3, 1);
    Atomics.notify(c, chan(i) + 3);
  };
  let scans = 0;
  let timedOut = false;
  for (;;) {
    const done = Atomics.load(c, 0) === 1;
    scans++;
    // Level-triggered: once the sender is done, full rescans find anything a lost wake-up left.
    scanPending(si, job.vcpu, handler, { notifyVcpu: owner, full: done });
    if (done && mine.every((i) => Atomics.load(c, chan(i) + 1) === Atomics.load(c, chan(i)))) break;
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    const w = Atomics.load(store.i32, wake);
    if (w & 0xff) continue; // raised since the scan: scan again
    Atomics.wait(store.i32, wake, w, done ? 5 : 50);
  }
  parentPort!.postMessage({ scans, timedOut });
}
