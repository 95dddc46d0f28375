// page-server's configuration, parsed once into a frozen object.
import { DOMID_XEN } from "@xensim/abi";
import { z } from "zod";

export const PageServerConfigSchema = z
  .object({
    /** Owner domid of the local frames that hold replicas of peers' frames. */
    replicaOwner: z.number().int().min(0).max(0xffff).default(DOMID_XEN),
    /** Frames of a page store of its own, when the host gives no shared memory. */
    frames: z.number().int().positive().default(16384),
    /** Most bytes of one batch (one bus message); NATS' default max_payload is 1 MiB. */
    maxBatchBytes: z
      .number()
      .int()
      .positive()
      .default(512 * 1024),
    /** Published batches kept for gap-fill. */
    windowBatches: z.number().int().positive().default(1024),
    /** How long an early batch waits for its predecessors before the writer is asked. */
    gapGraceMs: z.number().int().min(0).default(20),
    /** Announce the stream's head this long after the last publish (finds lost tails). */
    headAnnounceMs: z.number().int().min(1).default(50),
    /** Publish requests of one event-loop turn share batches. */
    coalesce: z.boolean().default(true),
  })
  .strict();

export type PageServerConfig = z.infer<typeof PageServerConfigSchema>;
