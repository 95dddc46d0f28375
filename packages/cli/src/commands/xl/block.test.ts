import assert from "node:assert/strict";
import { test } from "node:test";
import { type DiskSummary } from "@xensim/toolstack";
import { formatBlockList } from "./block.js";

const disk = (over: Partial<DiskSummary>): DiskSummary => ({
  vdev: "xvda",
  devid: 51712,
  backendDomid: 0,
  backendState: "Connected",
  frontendState: "Connected",
  params: "memory:size=64m",
  mode: "w",
  ringPages: 64,
  queues: 4,
  features: {},
  sectors: 131072,
  nbdUri: "nbd+unix:///xvda?socket=/tmp/x/guest/1/nbd.sock",
  ...over,
});

/** Each row as {header: cell}: cells are two or more blanks apart and never contain a blank. */
function cells(out: string): Array<Record<string, string>> {
  const [header, ...lines] = out.split("\n").map((l) => l.trim().split(/ {2,}/));
  for (const l of lines) assert.equal(l.length, header!.length, `${l.join("|")}`);
  return lines.map((l) => Object.fromEntries(header!.map((h, i) => [h, l[i]!])));
}

test("xl block-list keeps a long features list out of the NBD column", () => {
  const features = {
    "feature-persistent": "1",
    "feature-flush-cache": "1",
    "feature-barrier": "1",
    "feature-discard": "1",
    "feature-max-indirect-segments": "256",
    "feature-write-same": "0",
  };
  const out = formatBlockList([
    disk({ features }),
    disk({ vdev: "xvdb", devid: 51728, features: {}, nbdUri: undefined, ringPages: 1, queues: 1 }),
  ]);
  const header = out.split("\n")[0]!;
  const nbdAt = header.indexOf("NBD");
  const [a, b] = out.split("\n").slice(1);
  // the URI starts exactly under its header, after at least one blank
  assert.equal(a!.slice(nbdAt), "nbd+unix:///xvda?socket=/tmp/x/guest/1/nbd.sock");
  assert.equal(a![nbdAt - 1], " ");
  assert.equal(b!.slice(nbdAt), "-");
  const [ra, rb] = cells(out);
  assert.equal(
    ra!.Features,
    "feature-persistent,feature-flush-cache,feature-barrier,feature-discard,feature-max-indirect-segments=256",
  );
  assert.equal(ra!["State(fe/be)"], "Connected/Connected");
  assert.equal(ra!.Pages, "64");
  assert.equal(ra!.Queues, "4");
  assert.equal(rb!.Features, "-");
  for (const l of out.split("\n")) assert.equal(l, l.trimEnd());
});

test("xl block-list with no disks prints the header only", () => {
  assert.equal(formatBlockList([]).split("\n").length, 1);
});
