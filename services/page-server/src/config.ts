// page-server's configuration, parsed once into a frozen object.
import { z } from "zod";

export const LinkFaultRulesSchema = z
  .object({
    seed: z.number().int().default(1),
    drop: z.number().min(0).max(1).optional(),
    duplicate: z.number().min(0).max(1).optional(),
    reorder: z.number().min(0).max(1).optional(),
    stall: z.number().min(0).max(1).optional(),
    stallMs: z.tuple([z.number().min(0), z.number().min(0)]).optional(),
    reorderMs: z.number().min(0).optional(),
    /** Only frames to these peers (host ids); all when absent. */
    peers: z.array(z.string()).optional(),
  })
  .strict();

export type LinkFaultConfig = z.infer<typeof LinkFaultRulesSchema>;

export const PageServerConfigSchema = z
  .object({
    /** Frames of a page store of its own, when the host gives no shared memory. */
    frames: z.number().int().positive().default(16384),
    /** Where the link listens (host:port; port 0 = any). */
    linkListen: z.string().default("127.0.0.1:0"),
    /** The host name peers connect to ("" = the listen host; set it when listening on 0.0.0.0). */
    linkAdvertise: z.string().default(""),
    /** Also listen on a unix socket in this directory ("" = no): peers on the same filesystem use it. */
    linkSocketDir: z.string().default(""),
    /** The hypervisor's host id when it runs in another host process ("" = here or none). */
    hypervisorHost: z.string().default(""),
    /** DATA frames are cut at about this many bytes. */
    frameBytes: z
      .number()
      .int()
      .min(4096)
      .default(64 * 1024),
    /** Unacknowledged frames kept for retransmission (count, bytes). */
    windowFrames: z.number().int().min(2).default(65536),
    windowBytes: z
      .number()
      .int()
      .min(65536)
      .default(256 * 1024 * 1024),
    /** Retransmit when the ack has not moved for this long, ms. */
    retransmitMs: z.number().int().min(1).default(200),
    /** The record queue in shared memory, bytes (0 = the link area's default). */
    queueBytes: z.number().int().min(0).default(0),
    /** Timers (acks, NACKs, retransmission) every this many ms. */
    tickMs: z.number().int().min(1).default(5),
    /** Link fault hooks at start (also switchable at run time: xensim.link.faults.<hostId>). */
    faults: LinkFaultRulesSchema.optional(),
  })
  .strict();

export type PageServerConfig = z.infer<typeof PageServerConfigSchema>;
