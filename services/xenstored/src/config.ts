// xenstored's configuration, parsed once into a frozen object.
import { z } from "zod";

export const XenstoredConfigSchema = z
  .object({
    /** Unix socket for the xs wire protocol (XENSTORED_PATH for the xenstore-* tools); "" = none. */
    socket: z.string().default(""),
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
