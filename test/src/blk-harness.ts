// The block scenarios' host: @xensim/harness's embedded block stack with this checkout's services.
import { type BlkHost, startBlkHost as startBlkStack } from "@xensim/harness";
import { serviceEntryPath } from "./harness.js";

export type { BlkHost };

export function startBlkHost(blkbackConfig: Record<string, unknown> = {}): Promise<BlkHost> {
  return startBlkStack(
    {
      hypervisor: serviceEntryPath("hypervisor"),
      xenstored: serviceEntryPath("xenstored"),
      blkback: serviceEntryPath("blkback"),
    },
    blkbackConfig,
  );
}
