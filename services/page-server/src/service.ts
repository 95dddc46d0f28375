// page-server as a service: attaches (or formats) the host's page store on the shared memory with a
// ReplicationWriter as its write log, serves the PageServer API on the call plane, and runs the
// replication engine on the event bus.
import { pageServerPolicy } from "./authz.js";
import { DOMID_XEN } from "@xensim/abi";
import { type CallClient, CallError } from "@xensim/bus";
import { type Fence, PAGE_SIZE, PageStore } from "@xensim/memory";
import {
  type AllocFramesRequest__Output,
  type FenceRequest__Output,
  type FetchBatchesReply__Output,
  type FetchBatchesRequest__Output,
  type ImportFramesRequest__Output,
  loadPageServerProto,
  type PublishRequest__Output,
  type ReadFrameRequest__Output,
  type ReleaseFramesRequest__Output,
  type ReplicateFramesRequest__Output,
  type WriteFramesRequest__Output,
} from "@xensim/proto";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { Counter, Gauge } from "prom-client";
import { type PageServerConfig, PageServerConfigSchema } from "./config.js";
import { createWriterStore, type Fetcher, PageServerCore } from "./core.js";

const INVALID_ARGUMENT = 3;
const FAILED_PRECONDITION = 9;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;

const fenceOut = (f: Fence) => ({ fence: { host: f.host, seq: String(f.seq) } });
const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const pageServerService: ServiceModule<PageServerConfig> = {
  name: "page-server",
  configSchema: PageServerConfigSchema,
  async start(ctx: ServiceContext<PageServerConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const def = loadPageServerProto().xensim.pageserver.v1.PageServer.service;
    const shared = ctx.sharedMemory ?? new SharedArrayBuffer(cfg.frames * PAGE_SIZE);
    const { store, writer } = createWriterStore(
      (writeLog) => PageStore.attachOrCreate(shared, { writeLog }),
      ctx.hostId,
      { maxBatchBytes: cfg.maxBatchBytes, windowBatches: cfg.windowBatches },
    );

    // The runtime's call server learns its gRPC address when it listens (after start returns).
    const server = ctx.calls.server as { grpcAddress?: string };
    const clients = new Map<string, CallClient>();
    const fetch: Fetcher = async (_writer, address, q) => {
      let c = clients.get(address);
      if (!c) {
        c = ctx.calls.client(def, address);
        clients.set(address, c);
      }
      const r = await c.call<unknown, FetchBatchesReply__Output>(
        "FetchBatches",
        { fromSeq: String(q.from), toSeq: String(q.to), replica: q.replica },
        { deadlineMs: 5000 },
      );
      return {
        batches: r.batches.map(u8),
        snapshot: r.snapshot.length > 0 ? u8(r.snapshot) : undefined,
        published: r.published.map(u8),
      };
    };
    const core = new PageServerCore({
      hostId: ctx.hostId,
      store,
      writer,
      bus: ctx.bus,
      log,
      replicaOwner: cfg.replicaOwner,
      address: () => server.grpcAddress,
      fetch,
      gapGraceMs: cfg.gapGraceMs,
      headAnnounceMs: cfg.headAnnounceMs,
      coalesce: cfg.coalesce,
    });
    await core.start();

    const reg = [ctx.metrics];
    const counter = (name: string, help: string, get: () => number) => {
      // Counters that mirror the core's stats at scrape time.
      let last = 0;
      return new Counter({
        name,
        help,
        registers: reg,
        collect() {
          const v = get();
          if (v > last) this.inc(v - last);
          last = v;
        },
      });
    };
    const s = core.stats;
    counter(
      "pageserver_pages_published_total",
      "frames carried by published batches",
      () => s.pagesPublished,
    );
    counter("pageserver_batches_published_total", "batches published on the bus", () => s.batchesPublished);
    counter("pageserver_bytes_published_total", "encoded bytes published", () => s.bytesPublished);
    counter("pageserver_pages_applied_total", "replica frames updated (per batch)", () => s.pagesApplied);
    counter("pageserver_batches_applied_total", "peers' batches applied in order", () => s.batchesApplied);
    counter(
      "pageserver_bytes_applied_total",
      "encoded bytes of peers' batches applied",
      () => s.bytesApplied,
    );
    counter("pageserver_duplicate_batches_total", "batches received again and ignored", () => s.duplicates);
    counter("pageserver_gap_fills_total", "FetchBatches asked of writers", () => s.gapFills);
    counter(
      "pageserver_snapshots_total",
      "gaps beyond the writer's window filled by snapshot",
      () => s.snapshots,
    );
    new Gauge({
      name: "pageserver_replication_lag_batches",
      help: "known head minus applied, per writer host followed",
      labelNames: ["writer"],
      registers: reg,
      collect() {
        this.reset();
        for (const [w, l] of Object.entries(core.lag())) this.set({ writer: w }, l);
      },
    });
    new Gauge({
      name: "pageserver_replica_frames",
      help: "local frames holding replicas of peers' frames",
      registers: reg,
      collect() {
        this.set(core.target.size);
      },
    });
    const started = Date.now();

    const bad = (msg: string) => new CallError(INVALID_ARGUMENT, msg);
    ctx.calls.authorize(pageServerPolicy);
    ctx.calls.server.addService(def, {
      ReplicateFrames: async (req: ReplicateFramesRequest__Output) => {
        if (!req.peer) throw bad("peer required");
        try {
          return fenceOut(await core.replicateFrames(req.peer, req.frames));
        } catch (err) {
          throw new CallError(FAILED_PRECONDITION, err instanceof Error ? err.message : String(err));
        }
      },
      Publish: async (req: PublishRequest__Output) => {
        for (const r of req.ranges) {
          if (!store.isValidFrame(r.frame) || r.offset + r.length > PAGE_SIZE) {
            throw bad(`range ${r.frame}+[${r.offset}, ${r.length}) is not in a frame`);
          }
        }
        return fenceOut(await core.markAndPublish(req.ranges, req.barrier));
      },
      WriteFrames: async (req: WriteFramesRequest__Output) => {
        const caller = req.caller;
        const privileged = caller === 0 || store.isPrivileged(caller);
        for (const w of req.writes) {
          if (!store.isValidFrame(w.frame) || w.offset + w.data.length > PAGE_SIZE) {
            throw bad(`write ${w.frame}+[${w.offset}, ${w.data.length}) is not in a frame`);
          }
          // A domain writes only frames it owns or has mapped writable (checked before any write).
          if (!privileged && !store.canWrite(caller, w.frame)) {
            throw new CallError(PERMISSION_DENIED, `domain ${caller} may not write frame ${w.frame}`);
          }
        }
        for (const w of req.writes) {
          const v = store.viewOfFrames([w.frame]);
          v.write(w.offset, u8(w.data));
          v.markWritten(w.offset, w.data.length);
        }
        return fenceOut(req.publish ? await core.publish() : writer.fence);
      },
      AllocFrames: async (req: AllocFramesRequest__Output) => {
        const owner = req.hasOwner ? req.owner : DOMID_XEN;
        const frames = store.allocFrames(owner, req.count);
        if (!frames)
          throw new CallError(RESOURCE_EXHAUSTED, `cannot allocate ${req.count} frames for ${owner}`);
        return { frames };
      },
      ReadFrame: async (req: ReadFrameRequest__Output) => {
        const r = core.readFrames(req.host, req.frames);
        return { data: r.data, localFrames: r.local };
      },
      Fence: async (req: FenceRequest__Output) => {
        const host = req.fence?.host || ctx.hostId;
        const fence = { host, seq: Number(req.fence?.seq ?? 0) };
        const applied =
          req.waitMs > 0 ? await core.awaitFence(fence, req.waitMs) : core.replica.isApplied(fence);
        return {
          applied,
          appliedUpTo: String(host === ctx.hostId ? writer.seq : core.replica.appliedUpTo(host)),
          head: String(host === ctx.hostId ? writer.seq : core.replica.headOf(host)),
          buffered: core.replica.buffered(host),
          published: String(writer.seq),
        };
      },
      ImportFrames: async (req: ImportFramesRequest__Output) => {
        if (!req.fromHost) throw bad("from_host required");
        try {
          const r = await core.importFrames(req.fromHost, req.frames, req.writable);
          return { localFrames: r.local, ...fenceOut(r.fence) };
        } catch (err) {
          throw new CallError(FAILED_PRECONDITION, err instanceof Error ? err.message : String(err));
        }
      },
      ReleaseFrames: async (req: ReleaseFramesRequest__Output) => {
        if (!req.fromHost) throw bad("from_host required");
        try {
          return fenceOut(await core.releaseFrames(req.fromHost, req.frames));
        } catch (err) {
          throw new CallError(FAILED_PRECONDITION, err instanceof Error ? err.message : String(err));
        }
      },
      FetchBatches: async (req: FetchBatchesRequest__Output) => {
        const r = core.fetchBatches(Number(req.fromSeq), Number(req.toSeq), req.replica);
        return { batches: r.batches, snapshot: r.snapshot ?? new Uint8Array(0), published: r.published };
      },
    });
    log.info({ frames: store.nrFrames }, "page-server started");

    return {
      health: () => {
        const secs = Math.max((Date.now() - started) / 1000, 1e-3);
        return {
          status: "ok",
          published: writer.seq,
          peers: [...core.peers.keys()],
          trackedFrames: writer.trackedFrames.length,
          replicaFrames: core.target.size,
          lag: core.lag(),
          pagesPublishedPerSec: Math.round(s.pagesPublished / secs),
          pagesAppliedPerSec: Math.round(s.pagesApplied / secs),
          ...s,
        };
      },
      async stop() {
        core.close();
        log.info("page-server stopped");
      },
    };
  },
};
