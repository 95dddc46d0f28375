// Test-only: an emulator in a worker thread for the ioreq tests. It binds the ports of server
// `serverId` of `domid` as dom0, maps its pages from the shared table and answers requests the way
// `mode` says — correctly, or as each kind of misbehaving device model.

import { parentPort, workerData } from "node:worker_threads";
import { STATE_IOREQ_NONE, STATE_IOREQ_READY, STATE_IORESP_READY } from "@xensim/abi";
import { EventChannels, scanPending } from "@xensim/evtchn";
import { PageStore } from "@xensim/memory";
import { ioreqSlot, type Ioreq } from "../codec.js";
import { IoreqServerEnd } from "../emulator.js";
import { IoreqServers } from "../servers.js";
import { rawSetIoreqState } from "../sync.js";

export type EmulatorMode =
  "echo" | "wrong-state" | "backwards" | "answer-idle" | "never" | "reset-none" | "destroy";

interface Data {
  sab: SharedArrayBuffer;
  domid: number;
  serverId: number;
  mode: EmulatorMode;
  /** Set to 1 to stop (the loop never yields to the event loop, so messages would not arrive). */
  stop: Int32Array;
}

const d = workerData as Data;
const store = PageStore.attach(d.sab);
const wake = (domid: number, vcpu: number) =>
  Atomics.notify(store.i32, (ev.sharedInfo(domid).frames[0]! * 4096 + vcpu * 64) / 4);
const ev: EventChannels = new EventChannels(store, { notify: wake });
const servers = new IoreqServers(store, ev);
const view = servers.servers(d.domid).find((s) => s.id === d.serverId)!;
const local = view.ports.map((p) => ev.bindInterdomain(0, { remoteDom: d.domid, remotePort: p }).port);
const bufLocal = view.bufPort
  ? ev.bindInterdomain(0, { remoteDom: d.domid, remotePort: view.bufPort }).port
  : undefined;
const end = new IoreqServerEnd({
  i32: store.i32,
  ioreqBase: view.ioreqFrame * 1024,
  ...(view.bufFrame ? { bufBase: view.bufFrame * 1024 } : {}),
  vcpuPorts: local,
  ...(bufLocal !== undefined ? { bufPort: bufLocal } : {}),
});
const wakeWord = (ev.sharedInfo(0).frames[0]! * 4096) / 4; // dom0 vCPU 0
const log = (m: object) => parentPort!.postMessage(m);

function misbehave(vcpu: number): boolean {
  const slot = ioreqSlot(view.ioreqFrame * 1024, vcpu);
  const ctrl = Atomics.load(store.i32, slot + 7);
  if (((ctrl >>> 16) & 0xf) !== STATE_IOREQ_READY) return false;
  switch (d.mode) {
    case "wrong-state":
      rawSetIoreqState(store.i32, slot, 9);
      return true;
    case "backwards":
      // INPROCESS, made visible to the vCPU (event, a pause), then READY again.
      rawSetIoreqState(store.i32, slot, 2);
      ev.evtchnSend(0, local[vcpu]!);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      rawSetIoreqState(store.i32, slot, STATE_IOREQ_READY);
      return true;
    case "reset-none":
      rawSetIoreqState(store.i32, slot, STATE_IOREQ_NONE);
      return true;
    case "never":
      rawSetIoreqState(store.i32, slot, 2);
      log({ t: "taken", vcpu });
      return false;
    case "destroy":
      rawSetIoreqState(store.i32, slot, 2);
      log({ t: "destroy", rc: servers.destroy(0, d.domid, d.serverId) });
      return false;
    default:
      return false;
  }
}

const handler = {
  ioreq(req: Ioreq, vcpu: number) {
    log({
      t: "ioreq",
      vcpu,
      type: req.type,
      addr: req.addr.toString(),
      data: req.data.toString(),
      size: req.size,
      dir: req.dir,
      count: req.count,
      df: req.df,
      dataIsPtr: req.dataIsPtr,
    });
    if (d.mode === "answer-idle") {
      // Answer this one, and put IORESP_READY into every other vCPU's idle slot.
      for (let v = 0; v < local.length; v++)
        if (v !== vcpu) rawSetIoreqState(store.i32, ioreqSlot(view.ioreqFrame * 1024, v), STATE_IORESP_READY);
    }
    return req.addr + 0x100n;
  },
  buffered(b: { type: number; addr: number; data: bigint; size: number }) {
    log({ t: "buffered", type: b.type, addr: b.addr, data: b.data.toString(), size: b.size });
  },
};

log({ t: "ready", ports: local, bufPort: bufLocal });
while (!Atomics.load(d.stop, 0)) {
  const seq = Atomics.load(store.i32, wakeWord);
  scanPending(ev.sharedInfo(0), 0, (port) => {
    const v = local.indexOf(port);
    if (d.mode !== "echo" && d.mode !== "answer-idle" && v >= 0) {
      if (misbehave(v)) ev.evtchnSend(0, port);
      return;
    }
    const out = end.handleEvent(port, handler);
    if (out.error) log({ t: "error", error: out.error });
    for (const p of out.notify) ev.evtchnSend(0, p);
  });
  Atomics.wait(store.i32, wakeWord, seq, 20);
}
for (const p of [...local, ...(bufLocal !== undefined ? [bufLocal] : [])]) ev.evtchnClose(0, p);
log({ t: "stopped" });
