// The guest runtime's configuration, parsed once into a frozen object.
import { z } from "zod";

export const GuestServiceConfigSchema = z
  .object({
    /** Call target of the hypervisor (service name in-process, or "host:port"). */
    hypervisor: z.string().default("hypervisor"),
    /**
     * The hypervisor's host id when it runs in another host process: the guests run here as that
     * host's domains homed here — their memory is replicated in this host's page store and their
     * data path goes over this host's link (a page-server must run here; docs/data-plane.md).
     * "" = the hypervisor shares this host process.
     */
    hypervisorHost: z.string().default(""),
    /**
     * Ignored (backends in other host processes need nothing from the guest runtime: what a guest
     * writes reaches them over the link).
     */
    remoteBackendsPageServer: z.string().default(""),
    /**
     * Runtime directory: NBD sockets go to `<stateDir>/nbd/<name>-<vdev>.sock`.
     * "" = `<os tmpdir>/xensim-guest-<hostId>`.
     */
    stateDir: z.string().default(""),
    /** How each connected disk is exported: a unix socket under stateDir, TCP (host, any port), or not. */
    nbd: z
      .object({
        listen: z.enum(["unix", "tcp", "none"]).default("unix"),
        host: z.string().default("127.0.0.1"),
        /**
         * TCP: the first port to try; each export takes the next free one of `portCount` (a range a
         * container can publish). 0 = any port.
         */
        port: z.number().int().min(0).max(65535).default(0),
        portCount: z.number().int().min(1).max(4096).default(64),
        /** TCP: the host name in the URIs (`xl block-list`), e.g. where a published port is reached. "" = `host`. */
        advertise: z.string().default(""),
      })
      .strict()
      .default({ listen: "unix", host: "127.0.0.1", port: 0, portCount: 64, advertise: "" }),
    /**
     * Frontend settings every guest starts from; `/vm/<uuid>/xensim/blkfront` overrides per guest
     * ("ring-page-order=4,queues=4,indirect-segments=64,persistent=0"). Linux's defaults are
     * order 0, min(4, CPUs) queues, 32 indirect segments, persistent on; ours are a little larger rings.
     */
    blkfront: z
      .object({
        maxRingPageOrder: z.number().int().min(0).max(6).default(2),
        maxQueues: z.number().int().min(1).max(64).default(2),
        maxIndirectSegments: z.number().int().min(0).max(4096).default(32),
        persistent: z.boolean().default(true),
      })
      .strict()
      .default({ maxRingPageOrder: 2, maxQueues: 2, maxIndirectSegments: 32, persistent: true }),
    /** Bounce pages per ring a frontend may use (from the guest's RAM). */
    maxDataPagesPerRing: z.number().int().min(16).default(256),
    /** How long closing a frontend waits for its backend to follow, ms. */
    closeTimeoutMs: z.number().int().min(100).default(5000),
    /** Status on `guest.<domid>.status` (and the IOPS figure) every this many ms; 0 = no events. */
    statusIntervalMs: z.number().int().min(0).default(1000),
    /** Full rescan period of each guest's event receiver, ms (events are hints). */
    slowScanMs: z.number().int().min(10).default(200),
    /** Redraw-and-flip period of each display connector's compositor (vdispl), ms. */
    displayPeriodMs: z.number().int().min(1).default(200),
    /** After a soft reset, how long to wait for the toolstack to rebuild and unpause the domain. */
    softResetBootTimeoutMs: z.number().int().min(0).default(30_000),
    /** Most guests this runtime runs at once (Boot beyond → -ENOSPC). */
    maxGuests: z.number().int().min(1).default(4096),
  })
  .strict();

export type GuestServiceConfig = z.infer<typeof GuestServiceConfigSchema>;
