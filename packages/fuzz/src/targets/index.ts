// Every fuzz target, one line each: `xensim fuzz` and the fuzz tests take them from here. Add a
// target for your parser (blkif requests, NBD, xl.cfg, the HTTP API, displif, ioreq) with one line.
import type { FuzzTarget } from "../target.js";
import { blkifRequestTarget } from "./blkif-request.js";
import { displifTarget } from "./displif.js";
import { nbdTarget } from "./nbd.js";
import { xlcfgTarget } from "./xlcfg.js";
import { xsRingTarget } from "./xs-ring.js";
import { xsWireTarget } from "./xs-wire.js";

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  xsWireTarget,
  xsRingTarget,
  blkifRequestTarget,
  nbdTarget,
  xlcfgTarget,
  displifTarget,
];
