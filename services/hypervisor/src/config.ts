// The hypervisor's configuration, parsed once into a frozen object.
import { z } from "zod";

export const HypervisorConfigSchema = z
  .object({
    /** dom0's memory (populated at gfn 0..), MiB. */
    dom0MemoryMib: z.number().int().min(0).default(4),
    /** dom0's vCPUs: one per dom0 service that receives events (README: dom0 vCPUs). */
    dom0Vcpus: z.number().int().min(1).max(32).default(12),
    /** Frames of the page store when the host hands none (standalone without --shared-memory-bytes). */
    storeFrames: z.number().int().positive().default(16384),
    /** How often destroyed domains that linger (frames still mapped elsewhere) are checked, ms. */
    reapMs: z.number().int().positive().default(200),
    /**
     * Keep the domain table here (domains.json), so a restarted hypervisor knows which domains its
     * previous run had and hands none of their domids out before they are cleaned away. "" = none.
     */
    stateDir: z.string().default(""),
  })
  .strict();

export type HypervisorConfig = z.infer<typeof HypervisorConfigSchema>;
