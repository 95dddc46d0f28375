// One NBD connection as a pure state machine: bytes in (feed), bytes out (hooks.send), block I/O on
// the exported BlockStore. The fixed newstyle handshake, then transmission with pipelined requests
// completed in any order. No node:* here; the socket lives in server.ts.
import { BLOCK_SECTOR_BYTES, type BlockIo, type BlockIoStatus, type BlockStore } from "@xensim/blkif";
import { XenErrno } from "@xensim/abi";
import { ByteQueue } from "./byte-queue.js";
import {
  decodeRequest,
  encodeChunkHeader,
  encodeErrorChunk,
  encodeGreeting,
  encodeOffsetDataHeader,
  encodeOptionReply,
  encodeSimpleReply,
  IHAVEOPT,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NbdCmd,
  NbdCmdFlag,
  NbdErr,
  NbdFlag,
  NbdInfo,
  NbdOpt,
  NbdRep,
  NbdReplyFlag,
  NbdReplyType,
  OPTION_HEADER_BYTES,
  REQUEST_HEADER_BYTES,
  type NbdRequest,
} from "./protocol.js";

/** Looks an export up by name: a Map, or a function (which cannot be listed). */
export type NbdExports = ReadonlyMap<string, BlockStore> | ((name: string) => BlockStore | undefined);

export interface NbdConnectionHooks {
  /** Bytes for the peer, in order. */
  send(bytes: Uint8Array): void;
  /** The connection is over (after abort, disconnect, a protocol error, or shutdown drained). */
  close(reason: string): void;
  /** Input should stop (too many requests in flight) / may resume. Optional. */
  pause?(): void;
  resume?(): void;
}

export interface NbdConnectionOptions {
  /** Requests handed to the store at once before input is paused (default 256). */
  readonly maxInFlight?: number;
  /** Largest read/write payload accepted (default 32 MiB); bigger → EINVAL (a write's payload is skipped). */
  readonly maxPayload?: number;
}

/** Largest option payload read into memory; bigger ones are skipped and answered NBD_REP_ERR_TOO_BIG. */
const MAX_OPTION_BYTES = 64 * 1024;
const ZERO_CHUNK_BYTES = 1 << 20;
let zeroChunk: Uint8Array | undefined;

type State =
  | { k: "client-flags" }
  | { k: "option-header" }
  | { k: "option-data"; option: number; length: number }
  | { k: "option-skip"; option: number; left: number }
  | { k: "request-header" }
  | { k: "write-payload"; req: NbdRequest }
  | { k: "payload-skip"; req: NbdRequest; left: number; error: number }
  | { k: "done" };

/** Maps a BlockIo status (0 or −errno) to the NBD error sent on the wire — the one place it is done. */
export function nbdErrorOf(status: BlockIoStatus): number {
  switch (-status) {
    case 0:
      return 0;
    case XenErrno.EPERM:
    case XenErrno.EROFS:
    case XenErrno.EACCES:
      return NbdErr.EPERM;
    case XenErrno.EINVAL:
      return NbdErr.EINVAL;
    case XenErrno.ENOSPC:
      return NbdErr.ENOSPC;
    case XenErrno.ENOMEM:
      return NbdErr.ENOMEM;
    case XenErrno.EOPNOTSUPP:
      return NbdErr.ENOTSUP;
    case XenErrno.EOVERFLOW:
      return NbdErr.EOVERFLOW;
    default:
      return NbdErr.EIO;
  }
}

const ERR_NAMES: Record<number, string> = {
  1: "EPERM",
  5: "EIO",
  12: "ENOMEM",
  22: "EINVAL",
  28: "ENOSPC",
  75: "EOVERFLOW",
  95: "ENOTSUP",
  108: "ESHUTDOWN",
};

/** The transmission flags advertised for a store. */
export function transmissionFlags(store: BlockStore, structured: boolean): number {
  const i = store.info;
  let f = NbdFlag.HAS_FLAGS | NbdFlag.SEND_FLUSH | NbdFlag.SEND_FUA;
  if (i.readonly) f |= NbdFlag.READ_ONLY;
  else {
    f |= NbdFlag.SEND_WRITE_ZEROES;
    if (i.discard) f |= NbdFlag.SEND_TRIM;
  }
  if (structured) f |= NbdFlag.SEND_DF;
  return f;
}

/**
 * One connection. Call start() once (sends the greeting), then feed() every chunk received.
 * Requests are parsed as they arrive and submitted to the store at once (up to maxInFlight);
 * replies go out in completion order, each tagged with its request's cookie.
 *
 * Unaligned requests (offset or length not a multiple of 512) are served by read-modify-write of the
 * covering sectors. Such a write is not atomic against a concurrent write to the same sector from
 * another request in flight (the protocol leaves the order of overlapping in-flight writes
 * undefined anyway; fio and nbdcopy send aligned I/O).
 */
export class NbdConnection {
  private readonly in = new ByteQueue();
  private state: State = { k: "client-flags" };
  private fixed = false;
  private noZeroes = false;
  private structured = false;
  private store: BlockStore | undefined;
  private exportName = "";
  private inFlight = 0;
  private paused = false;
  private outputBlocked = false;
  private stopping = false; // disconnect requested or shutdown: read nothing more, drain, close
  private closed = false;
  private readonly maxInFlight: number;
  private readonly maxPayload: number;
  /** Counters, for tests and metrics. */
  readonly stats = { requests: 0, errors: 0, bytesRead: 0, bytesWritten: 0 };

  constructor(
    private readonly exports: NbdExports,
    private readonly hooks: NbdConnectionHooks,
    opts: NbdConnectionOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 256;
    this.maxPayload = opts.maxPayload ?? 32 * 1024 * 1024;
  }

  /** The negotiated export, once in transmission. */
  get export(): { name: string; store: BlockStore } | undefined {
    return this.store === undefined ? undefined : { name: this.exportName, store: this.store };
  }
  get structuredReplies(): boolean {
    return this.structured;
  }
  get inTransmission(): boolean {
    return this.store !== undefined;
  }
  get pending(): number {
    return this.inFlight;
  }

  start(): void {
    this.hooks.send(encodeGreeting(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES));
  }

  feed(bytes: Uint8Array): void {
    if (this.closed || this.stopping) return;
    this.in.push(bytes);
    this.pump();
  }

  /**
   * Stops reading requests; once those in flight are answered, closes. During the handshake, closes
   * at once. Used by the server's close().
   */
  shutdown(reason = "server shutting down"): void {
    if (this.closed) return;
    this.stopping = true;
    this.in.clear();
    if (this.store === undefined || this.inFlight === 0) this.finish(reason);
  }

  /**
   * The transport cannot take more output right now (the socket's buffer is full) / can again.
   * While blocked no new request is started, so replies cannot pile up without bound; the shell
   * also stops reading.
   */
  setOutputBlocked(blocked: boolean): void {
    if (this.outputBlocked === blocked) return;
    this.outputBlocked = blocked;
    if (!blocked && !this.closed) this.pump();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.state = { k: "done" };
    this.in.clear();
    this.hooks.close(reason);
  }

  private pump(): void {
    for (;;) {
      if (this.closed || this.stopping) return;
      const s = this.state;
      switch (s.k) {
        case "client-flags": {
          if (this.in.length < 4) return;
          const b = this.in.take(4);
          const flags =
            ((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number);
          if ((flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !== 0)
            return this.finish("unknown client flags");
          this.fixed = (flags & NBD_FLAG_C_FIXED_NEWSTYLE) !== 0;
          this.noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) !== 0;
          this.state = { k: "option-header" };
          break;
        }
        case "option-header": {
          if (this.in.length < OPTION_HEADER_BYTES) return;
          const h = this.in.take(OPTION_HEADER_BYTES);
          const v = new DataView(h.buffer, h.byteOffset, OPTION_HEADER_BYTES);
          if (v.getBigUint64(0) !== IHAVEOPT) return this.finish("bad option magic");
          const option = v.getUint32(8);
          const length = v.getUint32(12);
          if (length > MAX_OPTION_BYTES && option !== NbdOpt.EXPORT_NAME)
            this.state = { k: "option-skip", option, left: length };
          else if (length > MAX_OPTION_BYTES) return this.finish("export name too long");
          else this.state = { k: "option-data", option, length };
          break;
        }
        case "option-skip": {
          const n = this.in.skip(s.left);
          if (n < s.left) {
            s.left -= n;
            return;
          }
          this.state = { k: "option-header" };
          this.optReply(s.option, NbdRep.ERR_TOO_BIG, "option data too large");
          break;
        }
        case "option-data": {
          if (this.in.length < s.length) return;
          const data = this.in.take(s.length);
          this.state = { k: "option-header" };
          this.option(s.option, data);
          break;
        }
        case "request-header": {
          if (this.outputBlocked) return;
          if (this.inFlight >= this.maxInFlight) {
            if (!this.paused) {
              this.paused = true;
              this.hooks.pause?.();
            }
            return;
          }
          if (this.in.length < REQUEST_HEADER_BYTES) return;
          const req = decodeRequest(this.in.take(REQUEST_HEADER_BYTES));
          if (req === "bad-magic") return this.badInput("bad request magic");
          this.stats.requests++;
          this.request(req);
          break;
        }
        case "write-payload": {
          if (this.in.length < s.req.length) return;
          const data = this.in.take(s.req.length);
          this.state = { k: "request-header" };
          this.write(s.req, data, (s.req.flags & NbdCmdFlag.FUA) !== 0);
          break;
        }
        case "payload-skip": {
          const n = this.in.skip(s.left);
          if (n < s.left) {
            s.left -= n;
            return;
          }
          this.state = { k: "request-header" };
          this.reply(s.req, s.error);
          break;
        }
        case "done":
          return;
      }
    }
  }

  /** Bad magic in transmission: the stream cannot be resynchronised; answer what is in flight, then close. */
  private badInput(reason: string): void {
    this.stopping = true;
    this.in.clear();
    if (this.inFlight === 0) this.finish(reason);
    else this.stopReason = reason;
  }
  private stopReason = "client disconnected";

  // ---- handshake ----

  private optReply(option: number, type: number, message?: string): void {
    this.hooks.send(
      encodeOptionReply(option, type, message === undefined ? undefined : new TextEncoder().encode(message)),
    );
  }

  private lookup(name: string): BlockStore | undefined {
    return typeof this.exports === "function" ? this.exports(name) : this.exports.get(name);
  }

  private option(option: number, data: Uint8Array): void {
    switch (option) {
      case NbdOpt.EXPORT_NAME: {
        const name = decodeName(data);
        const store = name === undefined ? undefined : this.lookup(name);
        // No error reply is possible for NBD_OPT_EXPORT_NAME: an unknown export ends the connection.
        if (store === undefined || name === undefined)
          return this.finish(`unknown export '${name ?? "(bad utf-8)"}'`);
        const b = new Uint8Array(this.noZeroes ? 10 : 134);
        const v = new DataView(b.buffer);
        v.setBigUint64(0, BigInt(store.info.sectors) * BigInt(BLOCK_SECTOR_BYTES));
        v.setUint16(8, transmissionFlags(store, this.structured));
        this.hooks.send(b);
        return this.enter(name, store);
      }
      case NbdOpt.ABORT:
        this.optReply(option, NbdRep.ACK);
        return this.finish("client aborted");
      case NbdOpt.LIST: {
        if (data.length !== 0) return this.optReply(option, NbdRep.ERR_INVALID, "NBD_OPT_LIST takes no data");
        if (typeof this.exports === "function")
          return this.optReply(option, NbdRep.ERR_POLICY, "exports are not listable");
        for (const name of this.exports.keys()) {
          const n = new TextEncoder().encode(name);
          const d = new Uint8Array(4 + n.length);
          new DataView(d.buffer).setUint32(0, n.length);
          d.set(n, 4);
          this.hooks.send(encodeOptionReply(option, NbdRep.SERVER, d));
        }
        return this.optReply(option, NbdRep.ACK);
      }
      case NbdOpt.INFO:
      case NbdOpt.GO:
        return this.infoOrGo(option, data);
      case NbdOpt.STRUCTURED_REPLY:
        if (data.length !== 0)
          return this.optReply(option, NbdRep.ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
        this.structured = true;
        return this.optReply(option, NbdRep.ACK);
      default:
        if (!this.fixed) return this.finish(`unsupported option ${option} from a non-fixed-newstyle client`);
        return this.optReply(option, NbdRep.ERR_UNSUP);
    }
  }

  private infoOrGo(option: number, data: Uint8Array): void {
    const v = new DataView(data.buffer, data.byteOffset, data.length);
    if (data.length < 6) return this.optReply(option, NbdRep.ERR_INVALID, "short NBD_OPT_INFO/GO");
    const nameLen = v.getUint32(0);
    if (data.length < 4 + nameLen + 2)
      return this.optReply(option, NbdRep.ERR_INVALID, "name overruns the option");
    const nreq = v.getUint16(4 + nameLen);
    if (data.length !== 4 + nameLen + 2 + 2 * nreq)
      return this.optReply(option, NbdRep.ERR_INVALID, "bad information request count");
    const name = decodeName(data.subarray(4, 4 + nameLen));
    if (name === undefined) return this.optReply(option, NbdRep.ERR_INVALID, "export name is not UTF-8");
    const requested = new Set<number>();
    for (let i = 0; i < nreq; i++) requested.add(v.getUint16(4 + nameLen + 2 + 2 * i));
    const store = this.lookup(name);
    if (store === undefined) return this.optReply(option, NbdRep.ERR_UNKNOWN, `no export named '${name}'`);
    const ex = new Uint8Array(12);
    const ev = new DataView(ex.buffer);
    ev.setUint16(0, NbdInfo.EXPORT);
    ev.setBigUint64(2, BigInt(store.info.sectors) * BigInt(BLOCK_SECTOR_BYTES));
    ev.setUint16(10, transmissionFlags(store, this.structured));
    this.hooks.send(encodeOptionReply(option, NbdRep.INFO, ex));
    if (requested.has(NbdInfo.NAME)) {
      const n = new TextEncoder().encode(name);
      const d = new Uint8Array(2 + n.length);
      new DataView(d.buffer).setUint16(0, NbdInfo.NAME);
      d.set(n, 2);
      this.hooks.send(encodeOptionReply(option, NbdRep.INFO, d));
    }
    if (requested.has(NbdInfo.BLOCK_SIZE)) {
      const d = new Uint8Array(14);
      const dv = new DataView(d.buffer);
      dv.setUint16(0, NbdInfo.BLOCK_SIZE);
      dv.setUint32(2, 1); // any alignment works (read-modify-write below 512)
      dv.setUint32(6, Math.max(4096, store.info.physicalSectorSize));
      dv.setUint32(10, this.maxPayload);
      this.hooks.send(encodeOptionReply(option, NbdRep.INFO, d));
    }
    this.optReply(option, NbdRep.ACK);
    if (option === NbdOpt.GO) this.enter(name, store);
  }

  private enter(name: string, store: BlockStore): void {
    this.exportName = name;
    this.store = store;
    this.state = { k: "request-header" };
  }

  // ---- transmission ----

  private request(req: NbdRequest): void {
    const store = this.store as BlockStore;
    const size = store.info.sectors * BLOCK_SECTOR_BYTES;
    const known = NbdCmdFlag.FUA | NbdCmdFlag.NO_HOLE | NbdCmdFlag.DF;
    const end = req.offset + req.length;
    const fua = (req.flags & NbdCmdFlag.FUA) !== 0;
    if (req.type === NbdCmd.WRITE) {
      if (req.length > this.maxPayload) {
        // A write announcing more than we take (up to 4 GiB): answered EINVAL without reading or
        // allocating the payload, then the connection ends — skipping gigabytes the client may
        // never send would hold the connection open on the client's word (the spec lets a server
        // disconnect here).
        this.reply(req, NbdErr.EINVAL);
        return this.badInput(`write of ${req.length} bytes exceeds the maximum payload ${this.maxPayload}`);
      }
      let err = 0;
      if ((req.flags & ~known) !== 0) err = NbdErr.EINVAL;
      else if (store.info.readonly) err = NbdErr.EPERM;
      else if (end > size) err = NbdErr.ENOSPC;
      if (err !== 0) this.state = { k: "payload-skip", req, left: req.length, error: err };
      else this.state = { k: "write-payload", req };
      return;
    }
    if ((req.flags & ~known) !== 0) return this.reply(req, NbdErr.EINVAL);
    switch (req.type) {
      case NbdCmd.READ:
        if (req.length > this.maxPayload) return this.reply(req, NbdErr.EINVAL);
        if (end > size) return this.reply(req, NbdErr.EINVAL);
        return this.read(req);
      case NbdCmd.DISC:
        this.stopping = true;
        this.stopReason = "client disconnected";
        this.in.clear();
        if (this.inFlight === 0) this.finish(this.stopReason);
        return;
      case NbdCmd.FLUSH:
        return this.io(req, { op: "flush", sector: 0, nrSectors: 0, segs: [] });
      case NbdCmd.TRIM: {
        if (store.info.readonly) return this.reply(req, NbdErr.EPERM);
        if (end > size) return this.reply(req, NbdErr.EINVAL);
        // TRIM is advisory: only whole sectors inside the range are discarded; none at all if the
        // store cannot discard.
        const first = Math.ceil(req.offset / BLOCK_SECTOR_BYTES);
        const last = Math.floor(end / BLOCK_SECTOR_BYTES);
        if (!store.info.discard || last <= first) return this.reply(req, 0);
        return this.io(req, { op: "discard", sector: first, nrSectors: last - first, segs: [] }, fua);
      }
      case NbdCmd.WRITE_ZEROES:
        if (store.info.readonly) return this.reply(req, NbdErr.EPERM);
        if (end > size) return this.reply(req, NbdErr.ENOSPC);
        return this.writeZeroes(req, fua);
      default:
        return this.reply(req, NbdErr.EINVAL);
    }
  }

  private begin(): void {
    this.inFlight++;
  }

  private end(): void {
    this.inFlight--;
    if (this.stopping) {
      if (this.inFlight === 0) this.finish(this.stopReason);
      return;
    }
    if (this.paused && this.inFlight < this.maxInFlight) {
      this.paused = false;
      this.hooks.resume?.();
      this.pump();
    }
  }

  /** Submits one BlockIo (already validated) and answers with its status. */
  private io(req: NbdRequest, io: BlockIo, fuaAfter = false): void {
    const store = this.store as BlockStore;
    this.begin();
    store.submit(io, (st) => {
      if (st === 0 && fuaAfter && io.op !== "write") {
        store.submit({ op: "flush", sector: 0, nrSectors: 0, segs: [] }, (st2) => {
          this.replyEnd(req, nbdErrorOf(st2));
        });
        return;
      }
      this.replyEnd(req, nbdErrorOf(st));
    });
  }

  private replyEnd(req: NbdRequest, error: number): void {
    if (error !== 0) this.stats.errors++;
    if (!this.closed) this.reply(req, error);
    this.end();
  }

  private reply(req: NbdRequest, error: number): void {
    if (this.closed) return;
    if (req.type === NbdCmd.READ && this.structured) {
      if (error !== 0) this.hooks.send(encodeErrorChunk(req.cookie, error, ERR_NAMES[error] ?? "error"));
      else this.hooks.send(encodeChunkHeader(NbdReplyFlag.DONE, NbdReplyType.NONE, req.cookie, 0));
      return;
    }
    this.hooks.send(encodeSimpleReply(error, req.cookie));
  }

  private read(req: NbdRequest): void {
    const store = this.store as BlockStore;
    if (req.length === 0) return this.reply(req, 0);
    const a0 = Math.floor(req.offset / BLOCK_SECTOR_BYTES);
    const a1 = Math.ceil((req.offset + req.length) / BLOCK_SECTOR_BYTES);
    const buf = new Uint8Array((a1 - a0) * BLOCK_SECTOR_BYTES);
    const skip = req.offset - a0 * BLOCK_SECTOR_BYTES;
    this.begin();
    store.submit({ op: "read", sector: a0, nrSectors: a1 - a0, segs: [buf] }, (st) => {
      const err = nbdErrorOf(st);
      if (err !== 0 || this.closed) return this.replyEnd(req, err);
      const data = skip === 0 && buf.length === req.length ? buf : buf.subarray(skip, skip + req.length);
      this.stats.bytesRead += req.length;
      if (this.structured)
        this.hooks.send(encodeOffsetDataHeader(NbdReplyFlag.DONE, req.cookie, req.offset, req.length));
      else this.hooks.send(encodeSimpleReply(0, req.cookie));
      this.hooks.send(data);
      this.end();
    });
  }

  /** Writes `data` at req.offset: directly when aligned, else read-modify-write of the covering sectors. */
  private write(req: NbdRequest, data: Uint8Array, fua: boolean, done?: (err: number) => void): void {
    const store = this.store as BlockStore;
    const finish = done ?? ((err: number) => this.replyEnd(req, err));
    if (done === undefined) this.begin();
    const off = req.offset;
    const len = data.length;
    if (len === 0) return finish(0);
    this.stats.bytesWritten += len;
    if (off % BLOCK_SECTOR_BYTES === 0 && len % BLOCK_SECTOR_BYTES === 0) {
      store.submit(
        {
          op: "write",
          sector: off / BLOCK_SECTOR_BYTES,
          nrSectors: len / BLOCK_SECTOR_BYTES,
          segs: [data],
          fua,
        },
        (st) => finish(nbdErrorOf(st)),
      );
      return;
    }
    const a0 = Math.floor(off / BLOCK_SECTOR_BYTES);
    const a1 = Math.ceil((off + len) / BLOCK_SECTOR_BYTES);
    const buf = new Uint8Array((a1 - a0) * BLOCK_SECTOR_BYTES);
    store.submit({ op: "read", sector: a0, nrSectors: a1 - a0, segs: [buf] }, (st) => {
      if (st !== 0) return finish(nbdErrorOf(st));
      buf.set(data, off - a0 * BLOCK_SECTOR_BYTES);
      store.submit({ op: "write", sector: a0, nrSectors: a1 - a0, segs: [buf], fua }, (st2) =>
        finish(nbdErrorOf(st2)),
      );
    });
  }

  /** NBD_CMD_WRITE_ZEROES as writes of a shared zero chunk, 1 MiB at a time, in sequence. */
  private writeZeroes(req: NbdRequest, fua: boolean): void {
    zeroChunk ??= new Uint8Array(ZERO_CHUNK_BYTES);
    const zeros = zeroChunk;
    this.begin();
    let pos = req.offset;
    const end = req.offset + req.length;
    const step = (err: number): void => {
      if (err !== 0 || pos >= end) return this.replyEnd(req, err);
      // Keep later chunks sector-aligned once the first (possibly unaligned) one is written.
      const toBoundary =
        pos % BLOCK_SECTOR_BYTES === 0 ? ZERO_CHUNK_BYTES : BLOCK_SECTOR_BYTES - (pos % BLOCK_SECTOR_BYTES);
      const n = Math.min(toBoundary, end - pos);
      const at = pos;
      pos += n;
      this.write({ ...req, offset: at, length: n }, zeros.subarray(0, n), fua, step);
    };
    step(0);
  }
}

function decodeName(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}
