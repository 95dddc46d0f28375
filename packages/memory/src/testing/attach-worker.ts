// Worker for page-store.test.ts: attachOrCreate a buffer of zeroes at the same moment as other
// workers, then allocate a few frames; reports what it saw.
import { parentPort, workerData } from "node:worker_threads";
import { DOMID_XEN } from "@xensim/abi";
import { PageStore } from "../page-store.js";

const { buffer, go } = workerData as { buffer: SharedArrayBuffer; go: Int32Array };
Atomics.wait(go, 0, 0); // start together
const store = PageStore.attachOrCreate(buffer);
const frames: number[] = [];
for (let i = 0; i < 20; i++) frames.push(store.allocFrame(DOMID_XEN));
parentPort!.postMessage({ nrFrames: store.nrFrames, frames });
