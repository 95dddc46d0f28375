// Test-only: a small C program built with gcc against the real /usr/include/xen/io/ring.h and
// io/blkif.h (blkif_sring, blkif_front_ring_t, blkif_back_ring_t). It reads a ring state (the
// ring bytes and the four private indices) and a script of operations on stdin, runs the script
// with the ring.h macros, and writes the new state and one result word per operation to stdout.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Operation codes shared by the C program and the TypeScript runner. */
export const Op = Object.freeze({
  PUT_REQ: 0, // arg k: fill k request slots at req_prod_pvt (pattern), req_prod_pvt += k
  PUSH_REQ: 1,
  PUSH_REQ_NOTIFY: 2, // → notify
  FINAL_RSP: 3, // → work (nonzero)
  CONSUME_RSP: 4, // arg k: → FNV hash of the k response slots from rsp_cons; rsp_cons += k
  UNCONSUMED_RSP: 5, // → count
  FREE_REQ: 6, // → RING_FREE_REQUESTS
  FULL: 7, // → RING_FULL
  RSP_PROD_OVERFLOW: 8, // arg prod → RING_RESPONSE_PROD_OVERFLOW
  CONSUME_REQ: 10, // arg k: → FNV hash of k request slots (RING_COPY_REQUEST); req_cons += k
  PUT_RSP: 11, // arg k
  PUSH_RSP: 12,
  PUSH_RSP_NOTIFY: 13,
  FINAL_REQ: 14,
  UNCONSUMED_REQ: 15,
  REQ_CONS_OVERFLOW: 16, // arg cons
  REQ_PROD_OVERFLOW: 17, // arg prod
  POKE_REQ_EVENT: 20, // arg: the backend writes req_event directly (batching hold-off)
  POKE_RSP_EVENT: 21,
  SHARED_RING_INIT: 30, // only in a script of its own: the privates are not reset
} as const);

export interface RingState {
  readonly bytes: Uint8Array;
  readonly reqProdPvt: number;
  readonly rspCons: number;
  readonly rspProdPvt: number;
  readonly reqCons: number;
}

export interface CRunResult {
  readonly state: RingState;
  readonly frontSize: number;
  readonly backSize: number;
  /** sizeof(union blkif_sring_entry) as compiled. */
  readonly entryBytes: number;
  readonly results: number[];
}

const SOURCE = String.raw`
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define mb() __sync_synchronize()
#define rmb() __sync_synchronize()
#define wmb() __sync_synchronize()
#include <xen/io/blkif.h>

#ifdef ENTRY108
/* A ring with x86_32 blkif's 108-byte stride, defined on the spot with ring.h's own macro. */
struct r108_request { unsigned char b[108]; };
struct r108_response { unsigned char b[12]; };
DEFINE_RING_TYPES(r108, struct r108_request, struct r108_response);
typedef union r108_sring_entry entry_t;
typedef struct r108_sring sring_t;
typedef struct r108_front_ring front_t;
typedef struct r108_back_ring back_t;
#else
typedef union blkif_sring_entry entry_t;
typedef blkif_sring_t sring_t;
typedef blkif_front_ring_t front_t;
typedef blkif_back_ring_t back_t;
#endif

static uint32_t get32(void) {
  uint32_t v;
  if (fread(&v, 4, 1, stdin) != 1) exit(2);
  return v;
}
static void put32(uint32_t v) { fwrite(&v, 4, 1, stdout); }

/* The slot pattern: byte j of the entry of index idx. */
static void fill(unsigned char *p, uint32_t idx, uint32_t salt) {
  for (uint32_t j = 0; j < sizeof(entry_t); j++) p[j] = (unsigned char)(idx * 31u + j * 7u + salt);
}
static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n) {
  for (size_t j = 0; j < n; j++) { h ^= p[j]; h *= 16777619u; }
  return h;
}

int main(void) {
  uint32_t pages = get32(), rpp = get32(), rc = get32(), rspp = get32(), rqc = get32(), nops = get32();
  uint32_t *ops = malloc((size_t)nops * 8 + 8), *res = malloc((size_t)nops * 4 + 4);
  size_t bytes = (size_t)pages * 4096;
  sring_t *s = aligned_alloc(4096, bytes);
  if (!ops || !res || !s) return 3;
  if (nops && fread(ops, 8, nops, stdin) != nops) return 2;
  if (fread(s, 1, bytes, stdin) != bytes) return 2;

  front_t fr;
  back_t br;
  FRONT_RING_ATTACH(&fr, s, rpp, bytes);
  fr.rsp_cons = rc;
  BACK_RING_ATTACH(&br, s, rspp, bytes);
  br.req_cons = rqc;

  for (uint32_t i = 0; i < nops; i++) {
    uint32_t op = ops[2 * i], arg = ops[2 * i + 1], r = 0;
    int flag;
    switch (op) {
    case 0:
      for (uint32_t k = 0; k < arg; k++, fr.req_prod_pvt++)
        fill((unsigned char *)RING_GET_REQUEST(&fr, fr.req_prod_pvt), fr.req_prod_pvt, 0x11);
      break;
    case 1: RING_PUSH_REQUESTS(&fr); break;
    case 2: RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, flag); r = (uint32_t)flag; break;
    case 3: RING_FINAL_CHECK_FOR_RESPONSES(&fr, flag); r = flag != 0; break;
    case 4:
      r = 2166136261u;
      for (uint32_t k = 0; k < arg; k++, fr.rsp_cons++) {
        entry_t e;
        RING_COPY_RESPONSE(&fr, fr.rsp_cons, &e.rsp);
        memcpy(&e, RING_GET_RESPONSE(&fr, fr.rsp_cons), sizeof e);
        r = fnv(r, (const unsigned char *)&e, sizeof e);
      }
      break;
    case 5: r = RING_HAS_UNCONSUMED_RESPONSES(&fr); break;
    case 6: r = RING_FREE_REQUESTS(&fr); break;
    case 7: r = RING_FULL(&fr); break;
    case 8: r = RING_RESPONSE_PROD_OVERFLOW(&fr, arg); break;
    case 10:
      r = 2166136261u;
      for (uint32_t k = 0; k < arg; k++, br.req_cons++) {
        entry_t e;
        RING_COPY_REQUEST(&br, br.req_cons, &e.req);
        r = fnv(r, (const unsigned char *)&e, sizeof e);
      }
      break;
    case 11:
      for (uint32_t k = 0; k < arg; k++, br.rsp_prod_pvt++)
        fill((unsigned char *)RING_GET_RESPONSE(&br, br.rsp_prod_pvt), br.rsp_prod_pvt, 0x22);
      break;
    case 12: RING_PUSH_RESPONSES(&br); break;
    case 13: RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&br, flag); r = (uint32_t)flag; break;
    case 14: RING_FINAL_CHECK_FOR_REQUESTS(&br, flag); r = flag != 0; break;
    case 15: r = RING_HAS_UNCONSUMED_REQUESTS(&br); break;
    case 16: r = RING_REQUEST_CONS_OVERFLOW(&br, arg); break;
    case 17: r = RING_REQUEST_PROD_OVERFLOW(&br, arg); break;
    case 20: s->req_event = arg; break;
    case 30: SHARED_RING_INIT(s); break;
    case 21: s->rsp_event = arg; break;
    default: return 4;
    }
    res[i] = r;
  }
  put32(fr.req_prod_pvt); put32(fr.rsp_cons); put32(br.rsp_prod_pvt); put32(br.req_cons);
  put32(RING_SIZE(&fr)); put32(RING_SIZE(&br)); put32((uint32_t)sizeof(entry_t));
  for (uint32_t i = 0; i < nops; i++) put32(res[i]);
  fwrite(s, 1, bytes, stdout);
  return 0;
}
`;

/** Why the C ring cannot be built here (no gcc, no Xen headers), or undefined. */
export function cRingUnavailable(): string | undefined {
  if (!existsSync("/usr/include/xen/io/ring.h")) return "/usr/include/xen/io/ring.h missing (libxen-dev)";
  const r = spawnSync("gcc", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return "gcc not found";
  return undefined;
}

export interface CRing {
  /** sizeof the ring's entry union as compiled (112 for blkif on x86_64, or 108). */
  readonly entryBytes: number;
  run(state: RingState, script: readonly (readonly [number, number])[]): CRunResult;
  dispose(): void;
}

/**
 * Compile the program (x86_64, hosted) into a temporary directory: over blkif_sring (112-byte
 * entries), or with `entry108` over a ring defined with DEFINE_RING_TYPES whose entry has x86_32
 * blkif's 108-byte stride.
 */
export function buildCRing(entry108 = false): CRing {
  const dir = mkdtempSync(join(tmpdir(), "xensim-ring-c-"));
  writeFileSync(join(dir, "ring.c"), SOURCE);
  const exe = join(dir, "ring");
  const cc = spawnSync(
    "gcc",
    ["-std=gnu11", "-O1", "-Wall", "-Wno-unused", ...(entry108 ? ["-DENTRY108"] : []), "-o", exe, "ring.c"],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  if (cc.status !== 0) throw new Error(`gcc failed:\n${cc.stdout}${cc.stderr}`);
  const run = (state: RingState, script: readonly (readonly [number, number])[]): CRunResult => {
    const pages = state.bytes.length / 4096;
    const head = new Uint32Array([
      pages,
      state.reqProdPvt,
      state.rspCons,
      state.rspProdPvt,
      state.reqCons,
      script.length,
      ...script.flat(),
    ]);
    const input = new Uint8Array(head.byteLength + state.bytes.length);
    input.set(new Uint8Array(head.buffer), 0);
    input.set(state.bytes, head.byteLength);
    const r = spawnSync(exe, [], { input, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`C ring exited ${r.status}: ${String(r.stderr)}`);
    const out = new Uint8Array(r.stdout);
    const words = 7 + script.length;
    const dv = new DataView(out.buffer, out.byteOffset, words * 4);
    const w = (i: number) => dv.getUint32(i * 4, true);
    if (out.length !== words * 4 + state.bytes.length) throw new Error(`C ring: short output ${out.length}`);
    return {
      state: {
        reqProdPvt: w(0),
        rspCons: w(1),
        rspProdPvt: w(2),
        reqCons: w(3),
        bytes: out.slice(words * 4),
      },
      frontSize: w(4),
      backSize: w(5),
      entryBytes: w(6),
      results: Array.from({ length: script.length }, (_, i) => w(7 + i)),
    };
  };
  const probe = run(
    { bytes: new Uint8Array(4096), reqProdPvt: 0, rspCons: 0, rspProdPvt: 0, reqCons: 0 },
    [],
  );
  return {
    entryBytes: probe.entryBytes,
    run,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
