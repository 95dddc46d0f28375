// A mapper's own record of the grant mappings and event channels it holds, in shared memory: what
// Linux's gntdev and evtchn devices keep per open file. When the holder (here: one service's worker
// thread) dies without unmapping or closing, whoever outlives it releases everything still
// recorded — the devices' release on close, and what Xen does with a dead domain's maptrack and
// ports — so the granter's pins go, a destroyed guest is not kept dying by mappings nobody will
// ever unmap, and no port of the holder's domain stays bound to (or waiting for) a dead peer.
//
// Layout (Int32 words): [0 .. SLOTS) the holder's domid + 1 of each slot (0 = free), then per slot
// a bitmap of grant handles and a bitmap of ports. A slot is claimed with compareExchange; bits are
// set and cleared with Atomics.or / Atomics.and. Only the holder writes bits while it lives; the
// releaser reads them after it died.

import { GNTST_okay } from "@xensim/abi";
import { DEFAULT_MAX_MAPTRACK_FRAMES } from "./grant-table.js";

/** Distinct mapper domids one holder may record (a backend maps as one domain, rarely more). */
export const MAPPER_LEDGER_SLOTS = 4;
/** Handles a slot can record: Xen's default max_maptrack_frames × 256 entries a frame. */
export const MAPPER_LEDGER_HANDLES = DEFAULT_MAX_MAPTRACK_FRAMES * 256;
/** Ports a slot can record (2-level event channels: 4096 on 64-bit). */
export const MAPPER_LEDGER_PORTS = 4096;
const HANDLE_WORDS = MAPPER_LEDGER_HANDLES / 32;
const WORDS_PER_SLOT = HANDLE_WORDS + MAPPER_LEDGER_PORTS / 32;

export interface LedgerMapping {
  mapper: number;
  handle: number;
}

export interface LedgerPort {
  domid: number;
  port: number;
}

/** What a ledger's release needs: unmap a handle, close a port (each returns 0 on success). */
export interface LedgerReleaser {
  unmapGrantRef(mapper: number, op: { handle: number }): number;
  evtchnClose?(caller: number, port: number): number;
}

export class MapperLedger {
  private readonly i32: Int32Array;

  /** A new, empty ledger (its buffer goes to the holder's thread). */
  static create(): MapperLedger {
    return new MapperLedger(
      new SharedArrayBuffer(4 * (MAPPER_LEDGER_SLOTS + MAPPER_LEDGER_SLOTS * WORDS_PER_SLOT)),
    );
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    if (this.i32.length < MAPPER_LEDGER_SLOTS * (1 + WORDS_PER_SLOT))
      throw new RangeError(`a mapper ledger needs ${4 * MAPPER_LEDGER_SLOTS * (1 + WORDS_PER_SLOT)} bytes`);
  }

  /** The last slot found and its tag (a holder records as one domain nearly always). */
  private lastSlot = -1;
  private lastTag = 0;

  /** The slot of `mapper`, claiming a free one when `claim`; -1 when none. */
  private slot(mapper: number, claim: boolean): number {
    const tag = mapper + 1;
    // A claimed slot keeps its tag until release(), which empties the ledger: re-check the word.
    const last = this.lastSlot;
    if (last >= 0 && this.lastTag === tag && Atomics.load(this.i32, last) === tag) return last;
    const s = this.findSlot(tag, claim);
    if (s >= 0) {
      this.lastSlot = s;
      this.lastTag = tag;
    }
    return s;
  }

  private findSlot(tag: number, claim: boolean): number {
    for (let s = 0; s < MAPPER_LEDGER_SLOTS; s++) {
      const cur = Atomics.load(this.i32, s);
      if (cur === tag) return s;
      if (cur === 0 && claim) {
        const was = Atomics.compareExchange(this.i32, s, 0, tag);
        if (was === 0 || was === tag) return s;
      }
    }
    return -1;
  }

  /** The holder mapped `handle` as `mapper`. False when the ledger cannot record it. */
  record(mapper: number, handle: number): boolean {
    if (!Number.isInteger(handle) || handle < 0 || handle >= MAPPER_LEDGER_HANDLES) return false;
    const s = this.slot(mapper, true);
    if (s < 0) return false;
    Atomics.or(this.i32, MAPPER_LEDGER_SLOTS + s * WORDS_PER_SLOT + (handle >>> 5), 1 << (handle & 31));
    return true;
  }

  /** The holder unmapped `handle`. */
  forget(mapper: number, handle: number): void {
    if (!Number.isInteger(handle) || handle < 0 || handle >= MAPPER_LEDGER_HANDLES) return;
    const s = this.slot(mapper, false);
    if (s < 0) return;
    Atomics.and(this.i32, MAPPER_LEDGER_SLOTS + s * WORDS_PER_SLOT + (handle >>> 5), ~(1 << (handle & 31)));
  }

  /** The holder opened `port` of its domain `domid`. False when the ledger cannot record it. */
  recordPort(domid: number, port: number): boolean {
    if (!Number.isInteger(port) || port <= 0 || port >= MAPPER_LEDGER_PORTS) return false;
    const s = this.slot(domid, true);
    if (s < 0) return false;
    const w = MAPPER_LEDGER_SLOTS + s * WORDS_PER_SLOT + HANDLE_WORDS + (port >>> 5);
    Atomics.or(this.i32, w, 1 << (port & 31));
    return true;
  }

  /** The holder closed `port`. */
  forgetPort(domid: number, port: number): void {
    if (!Number.isInteger(port) || port <= 0 || port >= MAPPER_LEDGER_PORTS) return;
    const s = this.slot(domid, false);
    if (s < 0) return;
    const w = MAPPER_LEDGER_SLOTS + s * WORDS_PER_SLOT + HANDLE_WORDS + (port >>> 5);
    Atomics.and(this.i32, w, ~(1 << (port & 31)));
  }

  /** Every port still recorded. */
  heldPorts(): LedgerPort[] {
    const out: LedgerPort[] = [];
    for (let s = 0; s < MAPPER_LEDGER_SLOTS; s++) {
      const tag = Atomics.load(this.i32, s);
      if (tag === 0) continue;
      const base = MAPPER_LEDGER_SLOTS + s * WORDS_PER_SLOT + HANDLE_WORDS;
      for (let w = 0; w < MAPPER_LEDGER_PORTS / 32; w++) {
        let bits = Atomics.load(this.i32, base + w);
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          out.push({ domid: tag - 1, port: w * 32 + b });
        }
      }
    }
    return out;
  }

  /** Every mapping still recorded. */
  held(): LedgerMapping[] {
    const out: LedgerMapping[] = [];
    for (let s = 0; s < MAPPER_LEDGER_SLOTS; s++) {
      const tag = Atomics.load(this.i32, s);
      if (tag === 0) continue;
      const base = MAPPER_LEDGER_SLOTS + s * WORDS_PER_SLOT;
      for (let w = 0; w < HANDLE_WORDS; w++) {
        let bits = Atomics.load(this.i32, base + w);
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          out.push({ mapper: tag - 1, handle: w * 32 + b });
        }
      }
    }
    return out;
  }

  /**
   * The holder died: unmap every handle it still held, close every port it still had (when the
   * releaser can), and empty the ledger. A handle or port the tables no longer know (released
   * meanwhile, or its domain gone) counts as stale.
   */
  release(tables: LedgerReleaser): { released: number; portsClosed: number; stale: number } {
    let released = 0;
    let portsClosed = 0;
    let stale = 0;
    for (const m of this.held()) {
      if (tables.unmapGrantRef(m.mapper, { handle: m.handle }) === GNTST_okay) released++;
      else stale++;
    }
    if (tables.evtchnClose)
      for (const p of this.heldPorts()) {
        if (tables.evtchnClose(p.domid, p.port) === 0) portsClosed++;
        else stale++;
      }
    this.i32.fill(0);
    return { released, portsClosed, stale };
  }
}
