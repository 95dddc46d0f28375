// Worker for the multi-thread test: a sender (evtchnSend in a loop, counting into a shared word
// before each send) or the receiver (scanPending on wake-ups and on a short timeout).
import { parentPort, workerData } from "node:worker_threads";
import { PageStore } from "@xensim/memory";
import { EventChannels } from "../event-channels.js";
import { scanPending } from "../two-level.js";

interface Job {
  buffer: SharedArrayBuffer;
  role: "sender" | "receiver";
  domid: number;
  port: number;
  sends: number;
  /** Int32 words in a separate SAB: [0] items produced, [1] wake word, [2] senders done, [3] pingpong ack */
  counters: SharedArrayBuffer;
  senders: number;
  pingpong: boolean;
}
const job = workerData as Job;
const c = new Int32Array(job.counters);
const ev = new EventChannels(PageStore.attach(job.buffer), {
  notify: () => {
    Atomics.add(c, 1, 1);
    Atomics.notify(c, 1);
  },
});
if (job.role === "sender") {
  for (let i = 0; i < job.sends; i++) {
    const ack = Atomics.load(c, 3);
    Atomics.add(c, 0, 1); // produce, then notify (as a ring producer does)
    if (ev.evtchnSend(job.domid, job.port) !== 0) throw new Error("send failed");
    if (job.pingpong) while (Atomics.load(c, 3) === ack) Atomics.wait(c, 3, ack, 50);
  }
  Atomics.add(c, 2, 1);
  Atomics.add(c, 1, 1);
  Atomics.notify(c, 1);
  parentPort!.postMessage({});
} else {
  const si = ev.sharedInfo(job.domid);
  let events = 0;
  let consumed = 0;
  let wrongPort = 0;
  for (;;) {
    const seen = Atomics.load(c, 1);
    const done = Atomics.load(c, 2) === job.senders;
    events += scanPending(si, 0, (p) => {
      if (p !== job.port) wrongPort++;
      consumed = Atomics.load(c, 0); // everything produced before the send is visible now
      Atomics.add(c, 3, 1);
      Atomics.notify(c, 3);
    });
    if (done && consumed === job.senders * job.sends) break;
    if (done) {
      // Level-triggered: a final full rescan finds anything a lost wake-up left behind.
      events += scanPending(
        si,
        0,
        () => {
          consumed = Atomics.load(c, 0);
        },
        { full: true },
      );
      if (consumed === job.senders * job.sends) break;
    }
    Atomics.wait(c, 1, seen, 20);
  }
  parentPort!.postMessage({ events, consumed, wrongPort });
}
