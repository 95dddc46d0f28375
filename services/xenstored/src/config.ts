// xenstored's configuration, parsed once into a frozen object.
import { z } from "zod";

export const XenstoredConfigSchema = z
  .object({
    /** Unix socket for the xs wire protocol (XENSTORED_PATH for the xenstore-* tools); "" = none. */
    socket: z.string().default(""),
    /** Call target of the hypervisor (service name in-process, or "host:port"). */
    hypervisor: z.string().default("hypervisor"),
    /**
     * The hypervisor's host id when it runs in another host process: guests' store pages are
     * foreign-mapped over this host's link (a page-server must run here; docs/data-plane.md).
     * "" = the hypervisor shares this host process.
     */
    hypervisorHost: z.string().default(""),
    /** Directory for snapshot + journal; "" = in memory only. */
    stateDir: z.string().default(""),
    /** fsync each journal record (survive power loss, not just process death). */
    fsync: z.boolean().default(false),
    /** Compact the journal into a new snapshot after this many records. */
    compactEvery: z.number().int().positive().default(20000),
    /** Session lease for gRPC clients, ms. */
    sessionLeaseMs: z.number().int().positive().default(15000),
    /** C xenstored answers quota hits with ENOSPC; oxenstored with "EQUOTA". */
    quotaError: z.enum(["xenstored", "oxenstored"]).default("xenstored"),
    /**
     * Per-connection output bounds (XSA-326): stop reading a connection while this many reply and
     * watch-event bytes wait for it, drop it past `outputDropBytes` (every connection, dom0's too),
     * discard watch events an unprivileged connection leaves waiting longer than the timeout.
     */
    outputStallBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    outputDropBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    watchEventTimeoutMs: z.number().int().nonnegative().default(20_000),
    quotas: z
      .object({
        nodes: z.number().int().positive(),
        watches: z.number().int().positive(),
        transactions: z.number().int().positive(),
        transactionNodes: z.number().int().positive(),
        nodePermissions: z.number().int().positive(),
        pathMax: z.number().int().positive(),
        nodeSize: z.number().int().positive(),
        outstanding: z.number().int().positive(),
        memory: z.number().int().positive(),
      })
      .partial()
      .default({}),
  })
  .strict();

export type XenstoredConfig = z.infer<typeof XenstoredConfigSchema>;
