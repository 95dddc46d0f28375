import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CHAOS_SUBJECTS,
  FAULT_SUBJECTS,
  GUEST_SUBJECTS,
  HYPERVISOR_SUBJECTS,
  LINK_SUBJECTS,
  METRICS_SUBJECTS,
  subjectToken,
  TRACE_SUBJECTS,
  XENSTORE_SUBJECTS,
} from "./index.js";

/** A NATS subject: non-empty tokens, no blanks; '*' or '>' only as whole tokens, '>' last. */
function assertSubject(s: string, pattern: boolean): void {
  assert.ok(s.length > 0 && !/\s/.test(s), s);
  const toks = s.split(".");
  toks.forEach((t, i) => {
    assert.ok(t.length > 0, `empty token in ${s}`);
    if (t === "*" || t === ">") {
      assert.ok(pattern, `wildcard in publish subject ${s}`);
      if (t === ">") assert.equal(i, toks.length - 1, s);
    } else assert.ok(!t.includes("*") && !t.includes(">"), s);
  });
}

describe("subjects", () => {
  it("are the wire names services, permissions and deployed configs agree on (golden)", () => {
    assert.equal(HYPERVISOR_SUBJECTS.domainExc(7), "hypervisor.domain.7.exc");
    assert.equal(GUEST_SUBJECTS.status(3), "guest.3.status");
    assert.equal(XENSTORE_SUBJECTS.watch("s1"), "xenstore.watch.s1");
    assert.equal(XENSTORE_SUBJECTS.watch("s1", "hostA:toolstack"), "xenstore.watch.hostA:toolstack.s1");
    assert.equal(FAULT_SUBJECTS.set(FAULT_SUBJECTS.targetAll), "xensim.fault.set.all");
    assert.equal(FAULT_SUBJECTS.records("blkback"), "xensim.fault.records.blkback");
    assert.equal(CHAOS_SUBJECTS.service("xenstored"), "xensim.chaos.svc.xenstored");
    assert.equal(CHAOS_SUBJECTS.host("hostA"), "xensim.chaos.host.hostA");
    assert.equal(LINK_SUBJECTS.address("hostB"), "link.hostB.address");
    assert.equal(LINK_SUBJECTS.faults("hostB"), "xensim.link.faults.hostB");
    assert.equal(METRICS_SUBJECTS.scrape, "xensim.metrics.scrape");
    assert.equal(TRACE_SUBJECTS.events("host.a", "blk back"), "xensim.trace.events.host_a.blk_back");
  });

  it("builders give publishable subjects, the *All forms valid patterns", () => {
    for (const s of [
      HYPERVISOR_SUBJECTS.domainExc(0),
      GUEST_SUBJECTS.status(1),
      XENSTORE_SUBJECTS.watch("x", "o"),
      FAULT_SUBJECTS.set("t"),
      FAULT_SUBJECTS.status,
      FAULT_SUBJECTS.inbox("1.2"),
      CHAOS_SUBJECTS.hosts,
      CHAOS_SUBJECTS.inbox("1"),
      LINK_SUBJECTS.faultRecords("h"),
      METRICS_SUBJECTS.inbox("1"),
      TRACE_SUBJECTS.control,
      TRACE_SUBJECTS.events("*", ">"),
    ])
      assertSubject(s, false);
    for (const s of [
      HYPERVISOR_SUBJECTS.domainExcAll,
      GUEST_SUBJECTS.statusAll,
      XENSTORE_SUBJECTS.watchAll,
      XENSTORE_SUBJECTS.watchOwner("o"),
      FAULT_SUBJECTS.all,
      FAULT_SUBJECTS.inboxAll,
      CHAOS_SUBJECTS.all,
      CHAOS_SUBJECTS.inboxAll,
      LINK_SUBJECTS.all,
      METRICS_SUBJECTS.inboxAll,
      TRACE_SUBJECTS.eventsAll,
    ])
      assertSubject(s, true);
  });

  it("subjectToken makes any name one token", () => {
    for (const s of ["", "a.b", "*", ">", "a b", "x\ty", "host-1"]) {
      const t = subjectToken(s);
      assert.ok(t.length > 0 && !/[.*>\s]/.test(t), JSON.stringify(t));
    }
    assert.equal(subjectToken("host-1"), "host-1");
  });
});
