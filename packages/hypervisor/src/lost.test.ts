// Domains lost in a restart (issue 14, "one truth after a restart"): a restarted hypervisor knows
// the domids its previous run had; it hands none of them out until each is destroyed (the
// toolstack's cleanup), so a new domain never inherits a dead one's xenstore nodes and devices.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XenErrno } from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import type { DomainExcEvent } from "./domain-exc.js";
import { Hypervisor } from "./hypervisor.js";

describe("domains lost in a restart", () => {
  it("their domids are not reused until destroyed; destroying one reports it dead; only dom0 may", () => {
    const excs: DomainExcEvent[] = [];
    const hv = new Hypervisor(PageStore.create({ frames: 4096 }), { onExc: (e) => excs.push(e) });
    assert.equal(hv.bootDom0({ memoryMib: 1, vcpus: 1 }), 0);
    hv.markLost([1, 2, 0, 0x7ff0, 5]);
    assert.deepEqual(hv.lostDomids(), [1, 2, 5], "dom0 and reserved ids are never lost");
    const a = hv.createDomain(0, { memoryMib: 1 });
    assert.deepEqual(a, { rc: 0, domid: 3 }, "the lowest domid no lost domain had");
    assert.equal(hv.createDomain(0, { domid: 2, memoryMib: 1 }).rc, -XenErrno.EEXIST);
    assert.equal(hv.info(0, 1).rc, -XenErrno.ESRCH, "a lost domain is no domain");
    assert.equal(hv.destroy(a.domid, 1), -XenErrno.EPERM, "an unprivileged caller cannot clean it");
    assert.equal(hv.destroy(0, 1), 0);
    assert.deepEqual(excs.at(-1), { domid: 1, state: "dead", reason: -1 });
    assert.equal(hv.destroy(0, 1), -XenErrno.ESRCH, "once");
    assert.deepEqual(hv.lostDomids(), [2, 5]);
    assert.deepEqual(hv.createDomain(0, { memoryMib: 1 }), { rc: 0, domid: 1 }, "free again");
    hv.markLost([3]);
    assert.deepEqual(hv.lostDomids(), [2, 5], "a live domain is not lost");
  });
});
