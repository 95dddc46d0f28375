// One measured run of `xensim bench display`: a displfront connected to displback, two XRGB8888
// buffers of the connector's size (drawn once), then PG_FLIPs back and forth for `durationMs`, each
// timed from the request to its XENDISPL_EVT_PG_FLIP event on the event page (what a guest's
// page-flip completion waits for). Shared by the embedded and the distributed placement.
import {
  type DisplayBuffer,
  Displfront,
  drawTestPattern,
  type Framebuffer,
  type GuestMemory,
} from "@xensim/displfront";
import type { GuestKernel } from "@xensim/guest";
import { writeVdisplDirectories } from "@xensim/toolstack";
import type { XenstoreClient } from "@xensim/xenstore-client";
import { LatencyRecorder, type OpFigures } from "./stats.js";

export interface DisplayRunSpec {
  width: number;
  height: number;
  durationMs: number;
  rampMs: number;
  devid: number;
}

export interface DisplayRunFigures {
  width: number;
  height: number;
  bpp: 32;
  buffer_pages: number;
  flips: OpFigures;
  /** Errors (non-zero statuses) during the measured window. */
  errors: number;
}

const timer = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

/** Adds the vdispl device (dom0's store), runs the flips from the guest, removes the device. */
export async function runDisplayFlips(options: {
  xs0: XenstoreClient;
  guestXs: XenstoreClient;
  kernel: GuestKernel;
  domid: number;
  spec: DisplayRunSpec;
}): Promise<DisplayRunFigures> {
  const { spec } = options;
  const dirs = await options.xs0.transaction((tx) =>
    writeVdisplDirectories(tx, options.domid, 0, spec.devid, {
      backend: "0",
      beAlloc: false,
      connectors: [{ id: "BENCH-1", width: spec.width, height: spec.height }],
    }),
  );
  const memory: GuestMemory = options.kernel.memory;
  const front = await Displfront.open({
    store: options.guestXs,
    self: options.domid,
    nodename: dirs.frontendPath,
    hypervisor: options.kernel.xc,
    memory,
    events: options.kernel.events,
    grantRefs: options.kernel.grantRefs,
    timer,
  });
  try {
    await front.whenConnected();
    const bufs: { buf: DisplayBuffer; fb: Framebuffer }[] = [];
    for (let i = 0; i < 2; i++) {
      const buf = await front.createBuffer({ width: spec.width, height: spec.height });
      drawTestPattern(buf);
      bufs.push({ buf, fb: await front.attachFramebuffer(buf) });
    }
    if ((await front.setConfig(0, bufs[0]!.fb)) !== 0) throw new Error("SET_CONFIG refused");
    let i = 0;
    const flip = async () => {
      const t0 = performance.now();
      const st = await front.pageFlip(0, bufs[i++ & 1]!.fb);
      return { st, us: (performance.now() - t0) * 1000 };
    };
    const rampEnd = performance.now() + spec.rampMs;
    while (performance.now() < rampEnd) await flip();
    const rec = new LatencyRecorder();
    let errors = 0;
    rec.start();
    const end = performance.now() + spec.durationMs;
    while (performance.now() < end) {
      const r = await flip();
      if (r.st !== 0) errors++;
      else rec.add(r.us);
    }
    rec.stop();
    for (const b of bufs) {
      await front.detachFramebuffer(b.fb);
      await front.destroyBuffer(b.buf);
    }
    return {
      width: spec.width,
      height: spec.height,
      bpp: 32,
      buffer_pages: bufs[0]!.buf.view.frames.length,
      flips: rec.figures(),
      errors,
    };
  } finally {
    await front.close();
    await options.xs0.rm(dirs.frontendPath).catch(() => {});
    await options.xs0.rm(dirs.backendPath).catch(() => {});
  }
}
