import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ChaosPoints,
  checkLeaks,
  checkLedger,
  checkLiveness,
  checkOneResponse,
  expandSchedule,
  FAULT_KINDS,
  gntstCode,
  parseScenario,
  ScenarioError,
  timelineKey,
  validateFaultSpec,
} from "./index.js";
import { deriveSeed } from "@xensim/random";

const SCENARIO = `name: t
seed: 42
duration: 5s
guests:
  - name: g1
faults:
  - kind: evtchn.lost
    probability: 0.2
    at: 1s
    for: 500ms
    every: 1s
    chance: 0.5
  - kind: service.restarted
    service: blkback
    at: 2s
`;

describe("fault kinds", () => {
  it("at least 20 kinds, unique names, each on a plane", () => {
    assert.ok(FAULT_KINDS.length >= 20, `${FAULT_KINDS.length} kinds`);
    assert.equal(new Set(FAULT_KINDS.map((k) => k.kind)).size, FAULT_KINDS.length);
  });
  it("GNTST codes by name or number; bad ones say what is expected", () => {
    assert.equal(gntstCode("GNTST_bad_gntref"), -3);
    assert.equal(gntstCode("bad_handle"), -4);
    assert.equal(gntstCode(undefined), -1);
    assert.throws(() => gntstCode("GNTST_nonsense"), /expected one of GNTST_general_error/);
    assert.throws(() => gntstCode(-99), /GNTST_\* code/);
  });
  it("an unknown kind lists the known ones", () => {
    assert.throws(
      () => validateFaultSpec({ kind: "evtchn.vanished" }),
      /unknown fault kind 'evtchn.vanished'; known kinds: evtchn.lost, .*store.full/,
    );
  });
});

describe("fault points", () => {
  it("watch: every set (with its spec) and heal (undefined) of a point, until unwatched", () => {
    const pts = new ChaosPoints({ service: "s", now: () => 5 });
    pts.point("store.io-error");
    pts.point("grant.map-failed");
    const seen: [string, unknown][] = [];
    const unwatch = pts.watch((kind, spec) => seen.push([kind, spec?.probability]));
    pts.set({ kind: "store.io-error", probability: 0.5 });
    pts.set({ kind: "grant.map-failed" });
    pts.heal("store.io-error");
    pts.heal("store.io-error"); // not set: nothing changes
    unwatch();
    pts.heal();
    assert.deepEqual(seen, [
      ["store.io-error", 0.5],
      ["grant.map-failed", undefined],
      ["store.io-error", undefined],
    ]);
  });
  it("a point that is not set never hits and records nothing", () => {
    const pts = new ChaosPoints({ service: "s", now: () => 5 });
    const p = pts.point("evtchn.lost");
    assert.equal(p.active, false);
    assert.equal(p.hit("port 1"), false);
    assert.equal(pts.records.length, 0);
  });
  it("same seed and traffic give the same hits (property); records carry the clock's time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, probability) => {
          const run = (): string => {
            let t = 1000;
            const pts = new ChaosPoints({ service: "s", now: () => t++ });
            pts.point("store.io-error");
            pts.set({ kind: "store.io-error", probability, seed });
            const p = pts.point("store.io-error");
            for (let i = 0; i < 200; i++) p.hit(`sector ${i}`);
            return JSON.stringify(pts.records);
          };
          assert.equal(run(), run());
        },
      ),
      { numRuns: 50 },
    );
  });
  it("count caps the hits; heal turns the point off", () => {
    const pts = new ChaosPoints({ service: "s", now: () => 0 });
    const p = pts.point("grant.map-failed");
    pts.set({ kind: "grant.map-failed", count: 3, code: "GNTST_bad_gntref" });
    let n = 0;
    for (let i = 0; i < 10; i++) if (p.hit("ref")) n++;
    assert.equal(n, 3);
    assert.equal(p.grantStatus(), -3);
    assert.deepEqual(pts.heal(), ["grant.map-failed"]);
    assert.equal(p.active, false);
  });
  it("setting a kind the service has no point for names its points", () => {
    const pts = new ChaosPoints({ service: "xenstored", now: () => 0 });
    pts.point("xenstore.eagain");
    assert.throws(
      () => pts.set({ kind: "evtchn.lost" }),
      /service xenstored has no fault point 'evtchn.lost' \(its points: xenstore.eagain\)/,
    );
  });
});

describe("scenario files", () => {
  it("parses a scenario", () => {
    const s = parseScenario(SCENARIO, "t.yaml");
    assert.equal(s.seed, 42);
    assert.equal(s.durationMs, 5000);
    assert.equal(s.faults[0]?.everyMs, 1000);
    assert.equal(s.faults[0]?.forMs, 500);
    assert.equal(s.faults[1]?.service, "blkback");
    assert.equal(s.guests[0]?.workload, "rw=randrw,bs=4k,iodepth=8,runtime=6,verify=crc32c");
  });
  const bad: Array<[string, string, RegExp]> = [
    [
      "name: t\nfaults:\n  - kind: evtchn.gone\n",
      "kind",
      /^b\.yaml:3:11: unknown fault kind 'evtchn.gone'; known kinds: /,
    ],
    [
      "name: t\nfaults:\n  - kind: evtchn.lost\n    probability: 2\n",
      "probability",
      /^b\.yaml:4:18: probability: expected a number in \[0, 1\]/,
    ],
    [
      "name: t\nfaults:\n  - kind: evtchn.lost\n    at: soon\n",
      "at",
      /^b\.yaml:4:9: at: expected a duration such as 2s or 500ms/,
    ],
    [
      "name: t\nfaults:\n  - kind: store.latency\n    service: nowhere\n",
      "service",
      /^b\.yaml:4:14: service: expected one of the host's services/,
    ],
    ["name: t\nguests: [\n", "yaml", /^b\.yaml:\d+:\d+: YAML: /],
    [
      "name: t\nfaults:\n  - kind: evtchn.lost\n    probabilty: 0.5\n",
      "param",
      /^b\.yaml:4:5: probabilty: unknown fault parameter \(known: kind, probability/,
    ],
    [
      "name: t\nseeed: 3\n",
      "key",
      /^b\.yaml:2:1: unknown key 'seeed' \(expected one of name, description, seed/,
    ],
    [
      "name: t\nfaults:\n  - kind: grant.map-failed\n    code: GNTST_bogus\n",
      "code",
      /^b\.yaml:4:11: code: grant status 'GNTST_bogus': expected one of/,
    ],
  ];
  for (const [text, what, re] of bad)
    it(`bad input (${what}) gets file:line:col and what was expected`, () => {
      assert.throws(
        () => parseScenario(text, "b.yaml"),
        (e: unknown) => e instanceof ScenarioError && re.test(e.message),
      );
    });
});

describe("schedules", () => {
  it("the same seed gives the same timeline; another seed another one", () => {
    const s = parseScenario(SCENARIO);
    assert.equal(timelineKey(expandSchedule(s, 7)), timelineKey(expandSchedule(s, 7)));
    const keys = new Set([1, 2, 3, 4, 5, 6].map((x) => timelineKey(expandSchedule(s, x))));
    assert.ok(keys.size > 1, "the chance draws and the points' seeds depend on the seed");
  });
  it("sets come before their heals, one-shot kinds are not healed, heals end by the duration", () => {
    const t = expandSchedule(parseScenario(SCENARIO), 9);
    for (const a of t) assert.ok(a.atMs <= 5000);
    assert.equal(t.filter((a) => a.kind === "service.restarted" && a.action === "heal").length, 0);
    const sets = t.filter((a) => a.kind === "evtchn.lost" && a.action === "set");
    for (const x of sets) {
      const heal = t.find((a) => a.action === "heal" && a.fault === x.fault && a.occurrence === x.occurrence);
      assert.equal(heal?.atMs, x.atMs + 500);
    }
  });
  it("derived seeds: schedule 0 is the base seed, the others differ", () => {
    assert.equal(deriveSeed(42, 0), 42);
    const seeds = new Set(Array.from({ length: 100 }, (_, k) => deriveSeed(42, k)));
    assert.equal(seeds.size, 100);
  });
});

describe("checkers", () => {
  it("ledger: lost writes fail with evidence; indeterminate ones do not", () => {
    const base = {
      guest: "g",
      vdev: "xvda",
      acknowledgedBlocks: 10,
      blocksChecked: 10,
      indeterminate: 3,
      failures: [],
      phase: "done",
    };
    assert.equal(checkLedger([{ ...base, lost: 0 }]).pass, true);
    const r = checkLedger([{ ...base, lost: 2, failures: [{ offset: 4096, reason: "stale" }] }]);
    assert.equal(r.pass, false);
    assert.match(r.summary, /2 acknowledged writes lost/);
    assert.deepEqual((r.evidence[0] as { failures: unknown[] }).failures, [
      { offset: 4096, reason: "stale" },
    ]);
  });
  it("one-response: a refused response or more responses than requests fail", () => {
    assert.equal(
      checkOneResponse([
        { guest: "g", vdev: "xvda", protocolErrors: 0, requests: 5, responses: 5, inFlight: 0 },
      ]).pass,
      true,
    );
    assert.equal(checkOneResponse([{ guest: "g", vdev: "xvda", protocolErrors: 1 }]).pass, false);
    assert.equal(
      checkOneResponse([
        { guest: "g", vdev: "xvda", protocolErrors: 0, requests: 5, responses: 6, inFlight: 0 },
      ]).pass,
      false,
    );
  });
  it("leaks: a node or a domain left behind fails with what was left", () => {
    assert.equal(checkLeaks([{ domid: 3, guest: "g", domainPresent: false, xenstoreNodes: [] }]).pass, true);
    const r = checkLeaks([
      { domid: 3, guest: "g", domainPresent: false, xenstoreNodes: ["/local/domain/0/backend/vbd/3"] },
    ]);
    assert.equal(r.pass, false);
    assert.deepEqual((r.evidence[0] as { xenstoreNodes: string[] }).xenstoreNodes, [
      "/local/domain/0/backend/vbd/3",
    ]);
  });
  it("liveness: I/O must move within the bound after the last heal", () => {
    const s = (t: number, ios: number, phase = "running") => ({ t, guest: "g", ios, iops: 0, phase });
    assert.equal(checkLiveness([s(0, 0), s(1000, 10), s(2000, 10), s(2500, 30)], 2000, 1000).pass, true);
    const r = checkLiveness([s(0, 0), s(1000, 10), s(2000, 10), s(4000, 10)], 2000, 1000);
    assert.equal(r.pass, false);
    assert.equal((r.evidence[0] as { iosAtHeal: number }).iosAtHeal, 10);
  });
});
