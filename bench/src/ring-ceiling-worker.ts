// The backend thread of the raw shared-ring ceiling (see ring-ceiling.ts): a BackRing over the same
// SharedArrayBuffer frames, no grants, no blkif decoding, no store. Every request is copied out of its
// slot (as blkback does, XSA-155) and answered at once with a response carrying its id; sleeps with
// Atomics.wait on the frontend's doorbell word and rings the frontend's when it asked to be told.
import { parentPort, workerData } from "node:worker_threads";
import { PageStore } from "@xensim/memory";
import { BackRing } from "@xensim/ring";
import { CTL_STOP, CTL_TO_BACK, CTL_TO_FRONT, type RingCeilingWorkerData } from "./ring-ceiling.js";

const d = workerData as RingCeilingWorkerData;
const store = PageStore.attach(d.sab);
const view = store.viewOfFrames(d.frames);
const ctl = new Int32Array(d.ctl);
const back = new BackRing(view, d.entryBytes, { nrPages: d.frames.length, start: 0 });
const req = new Uint8Array(d.entryBytes);
const rsp = new Uint8Array(16);
const reqDv = new DataView(req.buffer);
const rspDv = new DataView(rsp.buffer);
parentPort?.postMessage("ready");
let served = 0;
while (Atomics.load(ctl, CTL_STOP) === 0) {
  let n = back.unconsumedRequests();
  if (n === 0) {
    const seen = Atomics.load(ctl, CTL_TO_BACK);
    if (back.finalCheckForRequests()) continue;
    Atomics.wait(ctl, CTL_TO_BACK, seen, 50);
    continue;
  }
  while (n > 0) {
    for (let i = 0; i < n; i++) {
      back.copyRequest(back.reqCons, req);
      back.consumeRequests(1);
      // blkif_response: id (u64) at 0, operation (u8) at 8, status (i16) at 10.
      rspDv.setBigUint64(0, reqDv.getBigUint64(8, true), true);
      rsp[8] = req[0]!;
      rspDv.setInt16(10, 0, true);
      back.writeResponse(back.rspProdPvt, rsp);
      back.nextResponse();
    }
    served += n;
    n = back.unconsumedRequests();
  }
  if (back.pushResponsesAndCheckNotify()) {
    Atomics.add(ctl, CTL_TO_FRONT, 1);
    Atomics.notify(ctl, CTL_TO_FRONT);
  }
}
parentPort?.postMessage({ served });
