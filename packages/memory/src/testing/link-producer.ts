// Worker of the link-area queue test: a producer thread appending, in its own program order, small
// RANGE records (the bytes it just wrote: its id and a sequence number), bulk ones, and SEND
// records, to the host's record queue (a small one, so it wraps and fills).
import { parentPort, workerData } from "node:worker_threads";
import { PageStore } from "../page-store.js";

const job = workerData as { buffer: SharedArrayBuffer; id: number; ops: number; frame: number };
const store = PageStore.attach(job.buffer);
const view = store.viewOfFrames([job.frame]);
const slot = job.id * 64; // this producer's bytes in the frame
for (let seq = 1; seq <= job.ops; seq++) {
  switch (seq % 3) {
    case 0:
      view.setU32(slot, job.id);
      view.setU32(slot + 4, seq);
      view.markWritten(slot, 8);
      break;
    case 1:
      store.link!.appendSend(job.id, seq);
      break;
    default:
      // A bulk range (read by the consumer when it drains): only its place in the order counts.
      view.markWritten(1024 * (job.id % 3), 1024);
      store.link!.appendSend(job.id + 100, seq);
  }
}
parentPort!.postMessage("done");
