// Ring trace events of the blkfront driver (TRACE_RING): a request written to its slot and a
// response consumed. Callers check `tracer.mask & TRACE_RING` first (no work when tracing is off).
import { BlkifOp } from "@xensim/abi";
import {
  type BlkifRequest,
  type BlkifResponse,
  type BlkifSegment,
  blkifOpName,
  blkifRspName,
  indirectPages,
} from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import { tracer } from "@xensim/trace";
import type { XenbusDevice } from "@xensim/xenbus";
import type { RingQueue } from "./shadow.js";

const U32 = 0x1_0000_0000;

/** The trace of a request written to its slot (before req_prod moves). */
export function traceRequest(
  dev: XenbusDevice<MemView>,
  ring: RingQueue,
  req: BlkifRequest,
  indirectSegments: readonly BlkifSegment[],
  nData: number,
): void {
  const indirect = req.operation === BlkifOp.INDIRECT;
  const segs = indirect ? indirectSegments : req.segments;
  const grefs: number[] = [];
  for (let i = 0; i < Math.min(nData, segs.length); i++) grefs.push(segs[i]!.gref);
  tracer.emit({
    kind: "ring",
    op: "request",
    domid: dev.self,
    peer: dev.otherendId,
    device: `vbd/${dev.self}/${dev.devid}`,
    evtchn: ring.evtchn,
    ringIdx: ring.front.reqProdPvt - 1,
    id: req.idLo,
    operation: blkifOpName(indirect ? req.indirectOp : req.operation),
    ...(indirect ? { indirect: true, indirectGrefs: req.indirectGrefs.slice(0, indirectPages(nData)) } : {}),
    sector: req.sectorHi * U32 + req.sectorLo,
    nrSegments: nData,
    grefs,
  });
}

/** The trace of the response at ring index `ringIdx`, consumed. */
export function traceCompletion(dev: XenbusDevice<MemView>, ringIdx: number, rsp: BlkifResponse): void {
  tracer.emit({
    kind: "ring",
    op: "completion",
    domid: dev.self,
    peer: dev.otherendId,
    device: `vbd/${dev.self}/${dev.devid}`,
    ringIdx,
    id: rsp.idLo,
    operation: blkifOpName(rsp.operation),
    status: blkifRspName(rsp.status),
  });
}
