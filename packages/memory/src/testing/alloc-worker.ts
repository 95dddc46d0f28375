// Worker for page-store.test.ts: hammer allocFrames/freeFrame on a shared store and check that no
// frame handed to this worker is ever touched by the other one.
import { parentPort, workerData } from "node:worker_threads";
import { PageStore } from "../page-store.js";

const { buffer, owner, rounds } = workerData as { buffer: SharedArrayBuffer; owner: number; rounds: number };
const store = PageStore.attach(buffer);
let errors = 0;
let allocated = 0;
for (let r = 0; r < rounds; r++) {
  const count = 1 + (r % 7);
  const frames = store.allocFrames(owner, count, r % 2 === 0);
  if (!frames) continue;
  allocated += frames.length;
  for (const f of frames) store.u8.fill(owner & 0xff, f * 4096, f * 4096 + 64);
  for (const f of frames) {
    if (store.frameOwner(f) !== owner) errors++;
    for (let i = 0; i < 64; i++) if (store.u8[f * 4096 + i] !== (owner & 0xff)) errors++;
  }
  for (const f of frames) if (!store.freeFrame(f)) errors++;
}
parentPort!.postMessage({ errors, allocated });
