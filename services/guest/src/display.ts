// The guest's displays: a displfront per device under device/vdispl (those a config's `vdispl`
// created), each connector driven by a Compositor (logo, clock, the guest's disk IOPS). Wiring of
// @xensim/displfront over the guest kernel's XenCtrl, allocator, grant refs and event dispatch.
import { Compositor, Displfront } from "@xensim/displfront";
import type { GuestKernel } from "@xensim/guest";
import type { XenstoreClient } from "@xensim/xenstore-client";
import type { Logger } from "pino";

const timer = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

export class GuestDisplays {
  private readonly fronts: Displfront[] = [];
  private readonly compositors: Compositor[] = [];

  /** Opens every vdispl device of the domain and starts a compositor per connector once connected. */
  static async start(options: {
    kernel: GuestKernel;
    xs: XenstoreClient;
    domid: number;
    name: string;
    log: Logger;
    periodMs: number;
    iops: () => number;
  }): Promise<GuestDisplays> {
    const d = new GuestDisplays();
    const devids = await options.xs
      .ls(`/local/domain/${options.domid}/device/vdispl`)
      .catch(() => [] as string[]);
    for (const devid of devids) {
      const log = options.log.child({ vdispl: devid });
      const front = await Displfront.open({
        store: options.xs,
        self: options.domid,
        nodename: `/local/domain/${options.domid}/device/vdispl/${devid}`,
        hypervisor: options.kernel.xc,
        memory: options.kernel.memory,
        events: options.kernel.events,
        grantRefs: options.kernel.grantRefs,
        timer,
        log,
      });
      d.fronts.push(front);
      const started = new Set<number>();
      const startCompositors = () => {
        front.connectors.forEach((c, i) => {
          if (started.has(i)) return;
          started.add(i);
          const comp = new Compositor({
            front,
            connector: i,
            now: () => Date.now(),
            timer,
            periodMs: options.periodMs,
            iops: options.iops,
            title: options.name.slice(0, 16),
          });
          d.compositors.push(comp);
          void comp.start().catch((err: unknown) => log.warn({ err: String(err) }, "compositor"));
        });
      };
      front.subscribe((n) => {
        if (n.kind === "connected") {
          log.info(
            { connectors: n.connection.connectors.length, beAlloc: n.connection.beAlloc },
            "display connected",
          );
          startCompositors();
        } else if (n.kind === "error") log.warn({ err: n.err }, n.msg);
      });
      if (front.isConnected) startCompositors();
    }
    return d;
  }

  get count(): number {
    return this.fronts.length;
  }

  async close(): Promise<void> {
    for (const c of this.compositors.splice(0)) c.stop();
    await Promise.all(this.fronts.splice(0).map((f) => f.close().catch(() => {})));
  }

  abandon(): void {
    for (const c of this.compositors.splice(0)) c.stop();
    for (const f of this.fronts.splice(0)) f.abandon();
  }
}
