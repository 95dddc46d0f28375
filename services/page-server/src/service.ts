// page-server as a service: the host process's link thread (docs/data-plane.md). It attaches to the
// host's page store, runs the link engine of @xensim/link behind its sockets (LinkSockets), and
// serves a small debugging API on the call plane. Every other thread of the host reaches the link
// through the store's link area (markWritten, SEND and REQUEST records), never through a call.
import { pageServerPolicy } from "./authz.js";
import { DOMID_XEN } from "@xensim/abi";
import { CallError } from "@xensim/bus";
import { PAGE_SIZE, PageStore } from "@xensim/memory";
import {
  type AllocFramesRequest__Output,
  loadPageServerProto,
  type ReadFrameRequest__Output,
  type WriteFramesRequest__Output,
} from "@xensim/proto";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { Counter, Gauge } from "prom-client";
import { type PageServerConfig, PageServerConfigSchema } from "./config.js";
import { LinkSockets } from "./link-sockets.js";

const INVALID_ARGUMENT = 3;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;

const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const pageServerService: ServiceModule<PageServerConfig> = {
  name: "page-server",
  configSchema: PageServerConfigSchema,
  async start(ctx: ServiceContext<PageServerConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    const def = loadPageServerProto().xensim.pageserver.v1.PageServer.service;
    const shared = ctx.sharedMemory ?? new SharedArrayBuffer(cfg.frames * PAGE_SIZE);
    const store = PageStore.attachOrCreate(shared);
    // With credentials the link runs mutual TLS with this page-server's certificate (link-sockets.ts).
    // The host's workers sign their foreign maps; the link thread verifies them (link-principal.ts).
    const link = new LinkSockets({
      store,
      hostId: ctx.hostId,
      bus: ctx.bus,
      log,
      cfg,
      tls: ctx.tls,
      ...(ctx.linkPrincipals ? { engine: { principals: ctx.linkPrincipals } } : {}),
    });
    await link.start();
    const engine = link.engine;
    const s = engine.stats;

    const reg = [ctx.metrics];
    const counter = (name: string, help: string, get: () => number) => {
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
    counter("link_frames_sent_total", "DATA frames sent to peers", () => s.framesSent);
    counter("link_frames_applied_total", "DATA frames applied in order", () => s.framesApplied);
    counter("link_bytes_sent_total", "bytes written on link sockets", () => s.bytesSent);
    counter("link_bytes_received_total", "bytes read from link sockets", () => s.bytesReceived);
    counter("link_records_drained_total", "records taken from this host's queue", () => s.recordsDrained);
    counter("link_ranges_applied_total", "page ranges applied into local frames", () => s.rangesApplied);
    counter(
      "link_events_delivered_total",
      "events set pending in a shadow shared_info here",
      () => s.eventsDelivered,
    );
    counter("link_sends_executed_total", "EVTCHNOP_send executed for another host", () => s.sendsExecuted);
    counter(
      "link_requests_executed_total",
      "grant and placement requests executed for another host",
      () => s.requestsExecuted,
    );
    counter(
      "link_refused_ranges_total",
      "page ranges refused: the writer may not write the frame",
      () => s.refusedRanges,
    );
    counter(
      "link_refused_records_total",
      "records refused (wrong host, bad request)",
      () => s.refusedRecords,
    );
    counter(
      "link_stale_hellos_total",
      "connections refused: an older epoch of a known peer",
      () => s.staleHellos,
    );
    new Counter({
      name: "link_peers_refused_total",
      help: "link connections refused by authentication (mutual TLS on): handshake (no certificate of this deployment), no-certificate, no-identity, not-page-server (another service's certificate), wrong-host (a HELLO claiming another host than its certificate), wrong-server (a dialled peer that is not that host's page-server)",
      labelNames: ["reason"],
      registers: reg,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(link.refusedPeers)) this.inc({ reason }, n);
      },
    });
    counter(
      "link_foreign_maps_refused_total",
      "foreign maps refused for the service that asked: unsigned or forged here, or (in the hypervisor's host) beyond the service's role (XSM: a backend maps grants only, a device model its own guest)",
      () => s.foreignMapsRefused,
    );
    counter("link_epoch_changes_total", "peers seen restarting (a new epoch)", () => s.epochChanges);
    counter(
      "link_retransmitted_frames_total",
      "frames sent again (NACK, ack timeout)",
      () => s.retransmitted,
    );
    counter(
      "link_resyncs_total",
      "resynchronisations sent (the window had lost frames)",
      () => s.resyncsSent,
    );
    counter(
      "link_mappings_released_total",
      "grant mappings of restarted peers released",
      () => s.mappingsReleased,
    );
    counter(
      "link_foreign_maps_total",
      "foreign mappings made for peers (privcmd, acquire_resource)",
      () => s.foreignMaps,
    );
    counter(
      "link_foreign_released_total",
      "foreign mappings released for a restarted mapper or a dead domain",
      () => s.foreignReleased,
    );
    counter("link_replicas_freed_total", "replica frames freed", () => s.replicasFreed);
    new Gauge({
      name: "link_foreign_maps_live",
      help: "foreign mappings held for peers now",
      registers: reg,
      collect() {
        this.set(engine.foreignMapCount);
      },
    });
    counter("link_queue_dropped_total", "records dropped: no link thread", () => engine.area.dropped);
    new Gauge({
      name: "link_peer_unacked_frames",
      help: "frames sent and not acknowledged, per peer",
      labelNames: ["peer"],
      registers: reg,
      collect() {
        this.reset();
        for (const p of engine.peerInfo()) this.set({ peer: p.host }, p.unacked);
      },
    });
    new Gauge({
      name: "link_queue_bytes",
      help: "bytes in this host's record queue",
      registers: reg,
      collect() {
        this.set(engine.area.queueUse.used);
      },
    });

    const bad = (msg: string) => new CallError(INVALID_ARGUMENT, msg);
    ctx.calls.authorize(pageServerPolicy);
    ctx.calls.server.addService(def, {
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
        return {};
      },
      AllocFrames: async (req: AllocFramesRequest__Output) => {
        const owner = req.hasOwner ? req.owner : DOMID_XEN;
        const frames = store.allocFrames(owner, req.count);
        if (!frames)
          throw new CallError(RESOURCE_EXHAUSTED, `cannot allocate ${req.count} frames for ${owner}`);
        return { frames };
      },
      ReadFrame: async (req: ReadFrameRequest__Output) => {
        const data: Uint8Array[] = [];
        const local: number[] = [];
        for (const f of req.frames) {
          const lf =
            !req.host || req.host === ctx.hostId ? (store.isValidFrame(f) ? f : 0) : engine.area.replicaOf(f);
          local.push(lf);
          data.push(lf ? store.u8.slice(lf * PAGE_SIZE, (lf + 1) * PAGE_SIZE) : new Uint8Array(0));
        }
        return { data, localFrames: local };
      },
      LinkStatus: async () => ({
        host: ctx.hostId,
        epoch: String(link.epoch),
        tcp: link.listenAddress.tcp,
        unix: link.listenAddress.unix,
        peers: engine.peerInfo(),
        stats: Object.fromEntries([
          ...Object.entries(s).map(([k, v]) => [k, String(v)]),
          ["tls", link.secure ? "1" : "0"],
          ["authenticatedHellos", String(link.authenticatedHellos)],
          ["foreignMapsLive", String(engine.foreignMapCount)],
          ...Object.entries(link.refusedPeers).map(([k, v]) => [`refusedPeers.${k}`, String(v)]),
        ]),
      }),
    });
    log.info({ frames: store.nrFrames, link: link.listenAddress }, "page-server started");

    return {
      health: () => ({
        // The hypervisor's host is a peer this host cannot work without (grant maps, event sends,
        // the events routed here): degraded while the link to it is down.
        ...(engine.hypervisorHost !== undefined &&
        !engine.peerInfo().some((p) => p.host === engine.hypervisorHost && p.ready)
          ? { status: "degraded" as const, lost: `link to the hypervisor's host ${engine.hypervisorHost}` }
          : { status: "ok" as const }),
        epoch: String(link.epoch),
        link: link.listenAddress,
        peers: engine.peerInfo(),
        queue: engine.area.queueUse,
        ...s,
      }),
      async stop() {
        await link.close();
        log.info("page-server stopped");
      },
    };
  },
};
