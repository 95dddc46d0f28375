// EvtchnPort: one handler call per pending edge, whether woken by Atomics or only by the slow timer
// (every wake-up lost), with spurious wake-ups dispatching nothing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventChannels, isPending } from "@xensim/evtchn";
import { PageStore } from "@xensim/memory";
import { waitFor } from "@xensim/testkit";
import { EvtchnPort } from "./evtchn-port.js";
import { makeNotify, wakeWordIndex } from "./wake.js";

function setup() {
  const store = PageStore.create({ frames: 1024 });
  const ref: { ev?: EventChannels } = {};
  const notify = makeNotify({ store, evtchn: () => ref.ev! });
  const ev = new EventChannels(store, { notify });
  ref.ev = ev;
  for (const d of [0, 1]) {
    store.createDomain(d);
    ev.initDomain(d, { sharedInfoFrame: store.allocFrame(d) });
  }
  const u = ev.allocUnbound(1, { dom: 1, remoteDom: 0 });
  const l = ev.bindInterdomain(0, { remoteDom: 1, remotePort: u.port });
  return { store, ev, remotePort: u.port, localPort: l.port };
}

async function exchange(send: () => void, seen: () => number, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    send();
    await waitFor(() => seen() >= i, { timeoutMs: 5000, message: `event ${i}` });
  }
}

describe("EvtchnPort", () => {
  it("wakes on the vcpu_info wake word (Atomics.waitAsync)", async () => {
    const { store, ev, remotePort, localPort } = setup();
    const si = ev.sharedInfo(1);
    const got: number[] = [];
    const p = new EvtchnPort(
      {
        domid: 1,
        sharedInfo: si,
        wake: { i32: store.i32, index: wakeWordIndex(si.frames[0]!, 0) },
        slowScanMs: 60_000, // only Atomics wakes it in time
      },
      (port) => got.push(port),
    );
    try {
      await exchange(
        () => ev.evtchnSend(0, localPort),
        () => got.length,
        50,
      );
      assert.ok(got.every((x) => x === remotePort));
      assert.equal(got.length, 50);
    } finally {
      p.close();
    }
  });

  it("every wake-up lost (slow timer only), spurious ones added: exactly one call per pending edge", async () => {
    const { store, ev, localPort } = setup();
    const si = ev.sharedInfo(1);
    let calls = 0;
    const p = new EvtchnPort({ domid: 1, sharedInfo: si, slowScanMs: 10 }, () => calls++);
    try {
      p.scan(true); // the bind left the port pending
      calls = 0;
      await exchange(
        () => {
          ev.evtchnSend(0, localPort);
          // A spurious wake-up (nothing pending for it) dispatches nothing.
          Atomics.notify(store.i32, wakeWordIndex(si.frames[0]!, 0));
          p.scan(false);
        },
        () => calls,
        40,
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(calls, 40);
    } finally {
      p.close();
    }
  });

  it("two receivers on two vCPUs of one domain: each gets exactly the ports bound to its vCPU", async () => {
    const store = PageStore.create({ frames: 1024 });
    const ref: { ev?: EventChannels } = {};
    const ev = new EventChannels(store, { notify: makeNotify({ store, evtchn: () => ref.ev! }) });
    ref.ev = ev;
    store.createDomain(0);
    ev.initDomain(0, { sharedInfoFrame: store.allocFrame(0) });
    store.createDomain(1);
    ev.initDomain(1, { sharedInfoFrame: store.allocFrame(1), maxVcpus: 3 });
    const chans = [1, 2, 1, 2, 0].map((vcpu) => {
      const u = ev.allocUnbound(1, { dom: 1, remoteDom: 0 });
      const l = ev.bindInterdomain(0, { remoteDom: 1, remotePort: u.port });
      assert.equal(ev.bindVcpu(1, { port: u.port, vcpu }), 0);
      return { vcpu, port: u.port, send: l.port };
    });
    const si = ev.sharedInfo(1);
    const got = new Map<number, number[]>([
      [1, []],
      [2, []],
    ]);
    const ports = [1, 2].map(
      (vcpu) =>
        new EvtchnPort(
          {
            domid: 1,
            vcpu,
            sharedInfo: si,
            notifyVcpu: ev.portVcpuReader(1),
            wake: { i32: store.i32, index: wakeWordIndex(si.frames[0]!, vcpu) },
            slowScanMs: 60_000, // only each vCPU's own wake word wakes it in time
          },
          (port) => got.get(vcpu)!.push(port),
        ),
    );
    try {
      const sends = [0, 1, 2, 3, 0, 0, 3, 1, 4, 2];
      for (const [n, i] of sends.entries()) {
        ev.evtchnSend(0, chans[i]!.send);
        const want = sends.slice(0, n + 1).filter((j) => chans[j]!.vcpu !== 0).length;
        await waitFor(() => got.get(1)!.length + got.get(2)!.length >= want, {
          timeoutMs: 5000,
          message: `send ${n}`,
        });
      }
      for (const vcpu of [1, 2]) {
        const mine = new Set(chans.filter((c) => c.vcpu === vcpu).map((c) => c.port));
        assert.ok(
          got.get(vcpu)!.every((p) => mine.has(p)),
          `vCPU ${vcpu} got only its own ports: ${got.get(vcpu)!.join(",")}`,
        );
        // One edge per send (each waited for before the next).
        assert.equal(got.get(vcpu)!.length, sends.filter((j) => chans[j]!.vcpu === vcpu).length);
      }
      assert.equal(ports[0]!.scan(true) + ports[1]!.scan(true), 0);
      assert.ok(isPending(si, chans[4]!.port), "the vCPU 0 port is left for a vCPU 0 receiver");
    } finally {
      for (const p of ports) p.close();
    }
  });
});
