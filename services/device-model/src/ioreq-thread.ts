// The device model's ioreq thread: the emulators' serving ends (their machines, their pages and
// ports) on a thread of their own that blocks in Atomics.wait on this instance's dom0 vCPU wake word,
// as a vCPU waits for its emulator — not in Atomics.waitAsync on the service's event loop, whose
// wake-up goes through a task posted to another thread's loop. The service's thread registers each
// emulator with Xen (dm_op, acquire_resource, bind: calls) and hands it over here; its console,
// saved-state and list requests reach the machines as messages, with a doorbell on the same wake
// word (evtchn_upcall_pending set, as a spurious upcall: a scan that finds nothing).

import { receiveMessageOnPort, workerData } from "node:worker_threads";
import {
  decodeMachineState,
  EmulatorEnd,
  type EmulatorRole,
  type GuestMemory,
  encodeMachineState,
  Machine,
  SERIAL_BASE,
} from "@xensim/devicemodel";
import { EventChannels, scanPending, wakeWordIndex } from "@xensim/evtchn";
import { type MemView, PageStore } from "@xensim/memory";
import { setTracer, type TraceRecord, tracer } from "@xensim/trace";
import { setThreadLinkPrincipal } from "@xensim/security";
import { LinkPlane, makeNotify, shadowSharedInfo } from "@xensim/xenctrl";
import { PortDispatcher } from "@xensim/xenbus";
import { guestMemory, MapCache } from "./guest-memory.js";
import {
  CTL,
  type EmulatorFigures,
  type IoreqThreadData,
  type ThreadMessage,
  type ThreadRequest,
} from "./ioreq-thread-protocol.js";

interface Entry {
  key: string;
  role: EmulatorRole;
  end: EmulatorEnd;
  /** Its ports' handlers in the PortDispatcher, dropped when it is removed. */
  stopEvents: Array<() => void>;
  /** Its guest pages mapped over the link (another host process than the hypervisor's). */
  mapcache?: MapCache;
}

/** Where this thread's events arrive and how its kicks leave: the hypervisor's host or the link. */
interface Placement {
  si: MemView;
  wake: number;
  notifyVcpu: (port: number) => number;
  /** EVTCHNOP_send: 0 or -errno. */
  send(port: number): number;
  /** Guest memory of an emulator (a mapcache over the link in another host process). */
  memory(domid: number): { memory: GuestMemory; mapcache?: MapCache };
}

function placement(store: PageStore, d: IoreqThreadData): Placement {
  if (d.linkPrincipal) setThreadLinkPrincipal(d.linkPrincipal);
  if (d.remote) {
    // Events: this host's shadow shared_info, where the link thread sets them pending and wakes our
    // vCPU's word after applying the frames they follow (the READY slot is in the replica). Kicks:
    // SEND records behind the RANGE records of the answer, in this thread's program order.
    const link = new LinkPlane(store, d.domid, d.remote.hypervisorHost, d.remote.linkTimeoutMs);
    const shadow = shadowSharedInfo(store, d.remote.shadowFrame);
    const mapper = {
      mapSync: (domid: number, gfns: readonly number[]) => link.foreignMapSync(domid, gfns),
      unmap: (handle: number) => link.foreignUnmapSync(handle),
    };
    return {
      si: shadow.view,
      wake: wakeWordIndex(shadow.frame, d.vcpu),
      notifyVcpu: shadow.vcpuOf,
      send: (p) => link.kick(p),
      memory: (domid) => {
        const mapcache = new MapCache(mapper, domid);
        return { memory: guestMemory(store, domid, mapcache), mapcache };
      },
    };
  }
  const ev: EventChannels = new EventChannels(store, { notify: makeNotify({ store, evtchn: () => ev }) });
  const si = ev.sharedInfo(d.domid);
  return {
    si,
    wake: wakeWordIndex(si.frames[0]!, d.vcpu),
    notifyVcpu: ev.portVcpuReader(d.domid),
    send: (p) => ev.evtchnSend(d.domid, p),
    memory: (domid) => ({ memory: guestMemory(store, domid) }),
  };
}

/** Busy rounds (events found without waiting) between two reads of the clock. */
const CLOCK_ROUNDS = 64;

function run(d: IoreqThreadData): void {
  const store = PageStore.attach(d.sab);
  const i32 = store.i32;
  const place = placement(store, d);
  const { si, wake, notifyVcpu } = place;
  const post = (m: ThreadMessage) => d.port.postMessage(m);
  const entries = new Map<string, Entry>();
  const ports = new PortDispatcher();
  const { ctl } = d;

  // EVTCHNOP_send on the answered vCPU's port: atomics on the shared page store, or a SEND record.
  const notify = (p: number) => {
    const rc = place.send(p);
    if (rc !== 0) post({ kind: "warn", message: `kick of port ${p} failed: rc ${rc}` });
  };
  const written = (frame: number, offset: number, length: number) => store.markWritten(frame, offset, length);

  const count = (e: Entry, fn: () => void) => {
    const s = e.end.counts.synchronous;
    const b = e.end.counts.buffered;
    try {
      fn();
    } catch (err) {
      post({ kind: "warn", message: `emulation failed: ${String(err)}`, domid: e.end.handover.domid });
    }
    // This thread is the counters' only writer: plain stores (the service reads them with Atomics.load).
    if (e.end.counts.synchronous !== s)
      ctl[CTL.synchronous] = (ctl[CTL.synchronous]! + e.end.counts.synchronous - s) | 0;
    if (e.end.counts.buffered !== b) ctl[CTL.buffered] = (ctl[CTL.buffered]! + e.end.counts.buffered - b) | 0;
  };
  /** Set when the devices' next deadline may have changed (read again before the next wait). */
  let deadlineMoved = false;
  const dispatch = (p: number) => {
    ports.dispatch(p);
    deadlineMoved = true;
  };
  const pollAll = () => {
    for (const e of entries.values()) count(e, () => e.end.poll());
  };

  const serial = (domid: number, n: number) => {
    for (const e of entries.values()) {
      if (e.end.handover.domid !== domid) continue;
      const i = n - SERIAL_BASE[e.role];
      const serials = e.end.machine.serials;
      if (i >= 0 && i < serials.length) return serials[i];
    }
    return undefined;
  };

  const handle = (q: ThreadRequest): unknown => {
    switch (q.kind) {
      case "add": {
        const machine = new Machine(q.role, { clock: () => Date.now() });
        machine.loadState(decodeMachineState(q.state));
        for (const u of machine.serials)
          u.onTransmit = () => {
            if (Atomics.load(ctl, CTL.txWanted) && Atomics.exchange(ctl, CTL.txWanted, 0))
              post({ kind: "tx" });
          };
        const guest = q.handover.domid;
        machine.onIrq = (line, level) => post({ kind: "irq", domid: guest, line, level });
        machine.syncIrqs(); // a restored state's lines
        const { memory, mapcache } = place.memory(guest);
        const end = new EmulatorEnd(i32, q.handover, {
          machine,
          memory,
          notify,
          written,
          self: d.domid,
          onError: (message) => post({ kind: "warn", message, domid: q.handover.domid }),
        });
        const e: Entry = { key: q.key, role: q.role, end, stopEvents: [] };
        if (mapcache) e.mapcache = mapcache;
        entries.set(q.key, e);
        for (const p of [
          ...q.handover.vcpuPorts,
          ...(q.handover.bufPort !== undefined ? [q.handover.bufPort] : []),
        ])
          e.stopEvents.push(ports.on(p, () => count(e, () => end.onEvent(p))));
        count(e, () => end.poll()); // whatever came before the handover
        return undefined;
      }
      case "remove": {
        const e = entries.get(q.key);
        if (!e) return false;
        entries.delete(q.key);
        for (const stop of e.stopEvents.splice(0)) stop();
        e.mapcache?.clearNow();
        return true;
      }
      case "save": {
        const e = entries.get(q.key);
        if (!e) return undefined;
        count(e, () => e.end.poll()); // whatever is queued is part of the state
        return encodeMachineState(e.end.machine.saveState());
      }
      case "vgaText": {
        for (const e of entries.values())
          if (e.end.handover.domid === q.domid && e.end.machine.vga) {
            count(e, () => e.end.poll()); // buffered text stores still in the ring are part of it
            return e.end.machine.vga.textScreen();
          }
        return undefined;
      }
      case "reset": {
        const e = entries.get(q.key);
        if (!e) return false;
        count(e, () => e.end.machine.reset(() => Date.now()));
        return true;
      }
      case "output": {
        const u = serial(q.domid, q.serial);
        if (!u) return undefined;
        return { ...u.output(q.offset), transmitted: u.transmitted };
      }
      case "input": {
        const u = serial(q.domid, q.serial);
        if (!u) return undefined;
        const n = u.input(q.data);
        for (const e of entries.values()) if (e.end.handover.domid === q.domid) e.end.machine.syncIrqs(); // RDI
        return n;
      }
      case "list": {
        const out: Record<string, EmulatorFigures> = {};
        for (const e of entries.values()) {
          const m = e.end.machine;
          out[e.key] = {
            synchronous: m.stats.synchronous,
            buffered: m.stats.buffered,
            pciConfig: m.stats.pciConfig,
            unhandled: m.stats.unhandled,
            serials: m.serials.length,
            framebufferHash: m.vga?.visibleHash() ?? "",
          };
        }
        return out;
      }
    }
  };

  // The trace switch, as the service's thread sets it; records go back to it to be sent.
  const relay = (record: TraceRecord) => {
    record.t = Number(process.hrtime.bigint());
    post({ kind: "trace", record });
  };

  // The devices' clocks (the RTC's interrupts): the wait below ends at the earliest deadline.
  const nextDeadline = (): number | undefined => {
    let at: number | undefined;
    for (const e of entries.values()) {
      const t = e.end.machine.nextDeadline();
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  };
  const tickAll = (now: number) => {
    for (const e of entries.values()) {
      const t = e.end.machine.nextDeadline();
      if (t !== undefined && t <= now) count(e, () => e.end.machine.tick(now));
    }
  };

  const scanSelected = { notifyVcpu };
  const scanFull = { full: true, notifyVcpu };
  // The round trip's critical path is this loop between a wake-up and the next Atomics.wait (the
  // vCPU resumes on this core once we block): no clock read there. A wait that ends with a wake-up
  // goes straight back to the top; the clock is read when a wait times out, when a device deadline
  // is pending, and every CLOCK_ROUNDS busy rounds (the slow rescan and the RTC's timers while busy).
  let lastFull = Date.now();
  let at = nextDeadline();
  let rounds = 0;
  for (;;) {
    if (Atomics.load(ctl, CTL.mail) && Atomics.exchange(ctl, CTL.mail, 0)) {
      for (let m = receiveMessageOnPort(d.port); m; m = receiveMessageOnPort(d.port)) {
        const q = m.message as ThreadRequest;
        try {
          post({ kind: "reply", id: q.id, ok: true, value: handle(q) });
        } catch (err) {
          post({
            kind: "reply",
            id: q.id,
            ok: false,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      deadlineMoved = true;
    }
    if (Atomics.load(ctl, CTL.stop)) break;
    const mask = Atomics.load(ctl, CTL.traceMask);
    if (mask !== tracer.mask) setTracer(mask, relay);
    if (deadlineMoved) {
      // an emulation, a message or a tick may have armed, moved or stopped the RTC's timers
      deadlineMoved = false;
      at = nextDeadline();
    }
    let timeUp: boolean;
    const w = Atomics.load(i32, wake);
    if (w & 0xff) {
      scanPending(si, d.vcpu, dispatch, scanSelected); // clears evtchn_upcall_pending
      timeUp = ++rounds >= CLOCK_ROUNDS;
    } else {
      const timeout = at === undefined ? d.slowScanMs : Math.max(0, Math.min(d.slowScanMs, at - Date.now()));
      timeUp = Atomics.wait(i32, wake, w, timeout) === "timed-out" || ++rounds >= CLOCK_ROUNDS;
    }
    if (!timeUp && at === undefined) continue;
    rounds = 0;
    const now = Date.now();
    if (at !== undefined && at <= now) {
      tickAll(now);
      deadlineMoved = true;
    }
    // The slow rescan, also while busy: a lost wake-up delays an event, never loses it.
    if (now - lastFull >= d.slowScanMs) {
      lastFull = now;
      scanPending(si, d.vcpu, dispatch, scanFull);
      pollAll();
      deadlineMoved = true;
    }
  }
  d.port.close();
}

run(workerData as IoreqThreadData);
