// Frontend discovery: a XenbusProbe on /local/domain/<self>/device/vbd whose added devices each get
// a Blkfront (Linux blkfront_probe), closed when their directory goes.
import type { MemView } from "@xensim/memory";
import { XenbusProbe } from "@xensim/xenbus";
import { Blkfront, type BlkfrontOptions } from "./blkfront.js";

export interface BlkfrontProbeOptions extends BlkfrontOptions {
  /** Called with each new Blkfront (its handshake has started). */
  readonly onBlkfront?: (b: Blkfront) => unknown;
  /** Called after a device's directory went away. */
  readonly onRemoved?: (b: Blkfront) => unknown;
}

export interface BlkfrontProbe {
  readonly probe: XenbusProbe<MemView>;
  /** The drivers, by nodename. */
  readonly devices: ReadonlyMap<string, Blkfront>;
  close(): Promise<void>;
}

/** Starts a frontend probe of type "vbd" that drives every device found with a Blkfront. */
export async function probeBlkfronts(opts: BlkfrontProbeOptions): Promise<BlkfrontProbe> {
  const devices = new Map<string, Blkfront>();
  const probe = await XenbusProbe.start<MemView>({
    store: opts.store,
    self: opts.self,
    side: "frontend",
    type: "vbd",
    hypervisor: opts.hypervisor,
    ...(opts.transactionRetries !== undefined ? { transactionRetries: opts.transactionRetries } : {}),
    onAdded: async (dev) => {
      const b = await Blkfront.attach(dev, opts);
      devices.set(dev.nodename, b);
      await opts.onBlkfront?.(b);
    },
    onRemoved: async (dev) => {
      const b = devices.get(dev.nodename);
      if (!b) return;
      devices.delete(dev.nodename);
      await opts.onRemoved?.(b);
    },
  });
  return {
    probe,
    devices,
    async close() {
      await probe.close();
    },
  };
}
