// Test-only: a page store with dom0, an HVM guest (2 vCPUs), a PV domain and a second privileged
// domain (another emulator), event channels whose notify wakes the receiver's wake word, and the
// ioreq servers with dm_op over them.

import { DOMID_XEN } from "@xensim/abi";
import { EventChannels } from "@xensim/evtchn";
import { PageStore } from "@xensim/memory";
import { type DmOpDomains, doDmOp } from "../dmop.js";
import { IoreqServers } from "../servers.js";

export const WORLD_DOMAINS = Object.freeze({ GUEST: 1, PV: 2, OTHER_EMU: 3 });
const { GUEST, PV, OTHER_EMU } = WORLD_DOMAINS;

/** The wake word of (domid, vcpu): the Int32 holding vcpu_info.evtchn_upcall_pending. */
export function wakeWord(ev: EventChannels, domid: number, vcpu: number): number {
  return (ev.sharedInfo(domid).frames[0]! * 4096 + vcpu * 64) / 4;
}

export function world() {
  const store = PageStore.create({ frames: 2048 });
  const wake = (d: number, v: number) => Atomics.notify(store.i32, wakeWord(ev, d, v));
  const ev: EventChannels = new EventChannels(store, { notify: wake });
  for (const [d, o] of [
    [0, { privileged: true, hvm: false }],
    [GUEST, { hvm: true }],
    [PV, { hvm: false }],
    [OTHER_EMU, { privileged: true, hvm: true }],
  ] as const) {
    store.createDomain(d, o);
    ev.initDomain(d, { sharedInfoFrame: store.allocFrame(d), maxVcpus: 4 });
  }
  const vcpus = new Map<number, number>([
    [GUEST, 2],
    [OTHER_EMU, 1],
  ]);
  const servers = new IoreqServers(store, ev);
  const domains: DmOpDomains = {
    exists: (d) => store.domainExists(d),
    isHvm: (d) => store.isHvm(d),
    mayDmOp: (c) => store.isPrivileged(c),
    vcpus: (d) => vcpus.get(d) ?? 1,
  };
  const dm = (caller: number, domid: number, buf: Uint8Array) => doDmOp(servers, domains, caller, domid, buf);
  const xenFrames = () => {
    let n = 0;
    for (let f = 1; f < 2048; f++) if (store.frameOwner(f) === DOMID_XEN) n++;
    return n;
  };
  return { store, ev, servers, dm, xenFrames };
}
