// Guests reach xenstored through their xenstore ring page and store event channel, as in Xen: on
// INTRODUCE xenstored maps the page (`struct xenstore_domain_interface`), binds the domain's
// unbound port, and serves the xs protocol through an XsRingServer. This is one more connection
// type of the core (beside unix sockets and call-plane sessions).
//
// With the hypervisor in this host process the page is a view of the host's page store; in another
// one it is a foreign mapping over the link (the hypervisor's host replicates the frame here, and
// what either side writes travels in order with the store event that follows it).
//
// dom0's services share dom0's event channels as Linux's CPUs do: xenstored moves each store port
// it binds to its own dom0 vCPU (DOM0_VCPU.xenstored, EVTCHNOP_bind_vcpu) and receives on that
// vCPU only, so the other dom0 receivers (blkback, …) neither take its events nor lose theirs.
import { EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound } from "@xensim/abi";
import { DOM0_VCPU, type EvtchnPort, type XenCtrl } from "@xensim/xenctrl";
import { PortDispatcher } from "@xensim/xenbus";
import { XsRingServer } from "@xensim/xenstore";
import type { MemView } from "@xensim/memory";
import type { Logger } from "pino";
import type { ConnId, XenstoredCore } from "./xenstored.js";

interface RingConnection {
  domid: number;
  gfn: number;
  remotePort: number;
  localPort: number;
  page: MemView;
  server: XsRingServer;
  conn: ConnId;
  /** A notification is owed to the guest (sent once per kick, not once per message). */
  owed: boolean;
  dead: boolean;
  /** Stops this ring's handler of its port (not a newer ring's of the same number). */
  offPort: () => void;
}

export class RingConnections {
  private readonly byDomid = new Map<number, RingConnection>();
  /** Attaches still in their awaits, by domid: a detach or a newer attach supersedes them. */
  private readonly attaching = new Map<number, symbol>();
  /** Our end of each ring's channel → its kick. */
  private readonly ports = new PortDispatcher();
  private receiver: EvtchnPort | null = null;
  private kicking: RingConnection | null = null;
  /** The dom0 vCPU our store ports are bound to and our receiver scans (0 if dom0 has just one). */
  private vcpu: number = DOM0_VCPU.xenstored;

  constructor(
    private readonly core: XenstoredCore,
    private readonly xc: XenCtrl,
    private readonly log: Logger,
  ) {}

  get count(): number {
    return this.byDomid.size;
  }

  /**
   * INTRODUCE(domid, gfn, port): map the store page and bind the store event channel. With
   * `restarted` (xenstored restarted with this domain introduced in its restored state) the port a
   * previous instance bound is taken over, and the ring is stopped with error COMM so that the
   * guest reconnects: its watches and transactions died with the previous instance.
   */
  async attach(
    domid: number,
    gfn: number,
    remotePort: number,
    opts: { restarted?: boolean } = {},
  ): Promise<void> {
    this.detach(domid); // a re-introduce replaces the old connection, as C xenstored does
    // A release (or another introduce) during our awaits supersedes this attach: it must not
    // register afterwards, and the port it bound must be closed again.
    const token = Symbol(`attach-${domid}`);
    this.attaching.set(domid, token);
    const superseded = () => this.attaching.get(domid) !== token;
    const page = await this.xc.mapForeignPages(domid, [gfn]);
    if (superseded()) {
      if (typeof page !== "number") void this.xc.unmapForeignPages(page).catch(() => {});
      return;
    }
    if (typeof page === "number") {
      this.log.warn({ domid, gfn, rc: page }, "xenstore ring: cannot map the store page");
      return;
    }
    let bound: { rc: number; port: number } | undefined;
    if (opts.restarted) {
      // The previous instance's end of the store channel is still bound in dom0: take it over.
      const st = await this.xc.evtchnStatus(domid, remotePort);
      if (st.rc === 0 && st.status === EVTCHNSTAT_interdomain && st.dom === 0)
        bound = { rc: 0, port: st.port };
    }
    bound ??= await this.xc.evtchnBindInterdomain(domid, remotePort);
    const unmap = () => void this.xc.unmapForeignPages(page).catch(() => {});
    if (superseded()) {
      if (bound.rc === 0) void this.xc.evtchnClose(bound.port).catch(() => {});
      unmap();
      return;
    }
    if (bound.rc !== 0) {
      this.log.warn(
        { domid, remotePort, rc: bound.rc },
        "xenstore ring: cannot bind the store event channel",
      );
      unmap();
      return;
    }
    if (!this.receiver) {
      // Our vCPU, once: dom0 booted with too few vCPUs leaves us sharing vCPU 0.
      const info = await this.xc.domainInfo(0);
      if (info.info && info.info.vcpus <= DOM0_VCPU.xenstored) {
        this.log.warn(
          { dom0Vcpus: info.info.vcpus },
          "xenstore ring: dom0 has no xenstored vCPU; receiving on vCPU 0 (shared with other dom0 services)",
        );
        this.vcpu = 0;
      }
    }
    if (this.vcpu !== 0) {
      // Anything pending on the port follows it to our vCPU (and we kick below anyway).
      const rc = await this.xc.evtchnBindVcpu(bound.port, this.vcpu);
      if (rc !== 0)
        this.log.warn({ domid, port: bound.port, vcpu: this.vcpu, rc }, "xenstore ring: bind_vcpu failed");
    }
    if (superseded()) {
      void this.xc.evtchnClose(bound.port).catch(() => {});
      unmap();
      return;
    }
    this.attaching.delete(domid);
    // Attach at the indices found on the page: the guest may already have written requests (it
    // does not wait for INTRODUCE), and the attach completes after INTRODUCE has been answered.
    const server = new XsRingServer(page);
    // Before anything can kick it (the receiver scans pending events as soon as it exists).
    const abandoned = opts.restarted === true && server.abandon();
    const ring: RingConnection = {
      domid,
      gfn,
      remotePort,
      localPort: bound.port,
      page,
      server,
      conn: -1,
      owed: false,
      dead: false,
      offPort: () => {},
    };
    ring.conn = this.connect(ring);
    this.byDomid.set(domid, ring);
    ring.offPort = this.ports.on(ring.localPort, () => this.kick(ring));
    this.receiver ??= this.xc.waitForEvents(
      0,
      (port) => {
        this.ports.dispatch(port);
      },
      { vcpu: this.vcpu },
    );
    if (abandoned) {
      this.log.info(
        { domid, gfn, remotePort, localPort: ring.localPort },
        "xenstore ring re-attached after a restart: guest asked to reconnect",
      );
      this.xc.evtchnNotify(ring.localPort);
      return;
    }
    this.log.info({ domid, gfn, remotePort, localPort: ring.localPort }, "xenstore ring connected");
    this.notify(ring);
    this.kick(ring); // requests written before we bound the port
  }

  private connect(ring: RingConnection): ConnId {
    return this.core.connect(
      ring.domid,
      {
        kind: "ring",
        send: (msg) => {
          if (ring.dead) return;
          if (ring.server.send(msg)) ring.owed = true;
          if (this.kicking !== ring) this.notify(ring);
        },
        // One message at a time into rsp: the rest waits in the core's bounded queue (XSA-326).
        canSend: () => ring.dead || ring.server.pendingBytes === 0,
        resume: () => setImmediate(() => this.kick(ring)),
        drop: (reason) => {
          this.log.warn({ domid: ring.domid, reason }, "xenstore ring: connection dropped");
        },
      },
      { privileged: false, label: `ring-${ring.domid}` },
    );
  }

  /**
   * The guest signalled (or a timer rescanned): write what waits for it, then read and answer
   * requests one at a time while the core allows (a stalled domain's requests stay in `req`),
   * notify once.
   */
  private kick(ring: RingConnection): void {
    if (ring.dead) return;
    this.kicking = ring;
    try {
      if (ring.server.flush()) ring.owed = true;
      this.core.writable(ring.conn);
      for (;;) {
        const r = ring.server.poll(this.core.canRead(ring.conn) ? 1 : 0);
        if (r.notify) ring.owed = true;
        if (r.reset) {
          // The guest asked to reconnect: forget its watches and transactions.
          this.core.disconnect(ring.conn);
          ring.conn = this.connect(ring);
          continue;
        }
        if (r.error) {
          this.log.warn(
            { domid: ring.domid, error: r.error.message },
            "xenstore ring error; connection ignored",
          );
          break;
        }
        const msg = r.messages[0];
        if (!msg) break;
        this.core.request(ring.conn, msg);
      }
    } finally {
      this.kicking = null;
    }
    this.notify(ring);
  }

  private notify(ring: RingConnection): void {
    if (!ring.owed || ring.dead) return;
    ring.owed = false;
    this.xc.evtchnNotify(ring.localPort);
  }

  /** RELEASE or domain death: drop the connection and close our end of the channel. */
  detach(domid: number): void {
    this.attaching.delete(domid); // an attach still in its awaits gives up
    const ring = this.byDomid.get(domid);
    if (!ring) return;
    ring.dead = true;
    this.byDomid.delete(domid);
    // A newer ring may hold the port number by now (a hypervisor restarted in between numbers its
    // ports afresh): only our own handler goes.
    ring.offPort();
    this.core.disconnect(ring.conn);
    void this.closeOwnPort(ring).catch(() => {});
    // A foreign mapping over the link holds the frame at the hypervisor's host: unmap it. (A handle
    // from a previous run of that host names nothing in the new one: -EINVAL, nothing released.)
    void this.xc.unmapForeignPages(ring.page).catch(() => {});
    this.log.info({ domid }, "xenstore ring disconnected");
  }

  /**
   * Close our end of the store channel — if it is still ours. The evtchn device unbinds only the
   * ports bound through it; here dom0's port numbers are shared by its services and, after the
   * hypervisor's host restarted, mean other channels of the new run (another guest's store port, a
   * backend's ring port). So the port is closed only while EVTCHNOP_status still shows this ring's
   * channel: bound to (domid, remote port), or left unbound towards domid by its death.
   */
  private async closeOwnPort(ring: RingConnection): Promise<void> {
    const st = await this.xc.evtchnStatus(0, ring.localPort);
    const ours =
      st.rc === 0 &&
      st.dom === ring.domid &&
      ((st.status === EVTCHNSTAT_interdomain && st.port === ring.remotePort) ||
        st.status === EVTCHNSTAT_unbound);
    if (!ours || this.ports.ports.includes(ring.localPort)) {
      this.log.info(
        { domid: ring.domid, port: ring.localPort, status: st.status, dom: st.dom, remotePort: st.port },
        "xenstore ring: the store port is no longer this ring's channel; left open",
      );
      return;
    }
    await this.xc.evtchnClose(ring.localPort);
  }

  close(): void {
    for (const d of [...this.byDomid.keys()]) this.detach(d);
    this.receiver?.close();
    this.receiver = null;
  }
}
