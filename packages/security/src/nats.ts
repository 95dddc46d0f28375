// NATS users and what each may publish and subscribe to. Subjects are named in @xensim/subjects
// (the hypervisor's domain exceptions, guests' status, xenstore watch events, fault and chaos
// control and their inboxes, the link's control plane, metrics, traces); this table grants
// each service exactly what it owns: a forged `hypervisor.domain.<id>.exc` from anyone but the
// hypervisor, fault rules set by anyone but an admin client, or `>` snooped by a stranger are refused
// by nats-server itself. The isolation test runs the services under these permissions and checks
// that nothing they do is refused, and that everything outside them is.
import {
  CHAOS_SUBJECTS,
  FAULT_SUBJECTS,
  GUEST_SUBJECTS,
  HYPERVISOR_SUBJECTS,
  LINK_SUBJECTS,
  METRICS_SUBJECTS,
  TRACE_SUBJECTS,
  XENSTORE_SUBJECTS,
} from "@xensim/subjects";
import { type Identity, serviceKind } from "./identity.js";

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** Replies to requests received (nats-server allow_responses). */
  allowResponses: boolean;
}

/** The per-user inbox scope: one subject token, no '.', '*' or '>' (host ids may contain '.'). */
export function inboxScope(id: Identity): string {
  const tok = (s: string) => s.replace(/[.*>\s]/g, "_");
  return id.kind === "client" ? `client:${tok(id.name)}` : `${tok(id.host)}:${tok(id.name)}`;
}

/** The inbox prefix a bus of this identity uses for its requests' replies. */
export function inboxPrefix(id: Identity): string {
  return `_INBOX.${inboxScope(id)}`;
}

/** The subject token of an identity for per-owner subjects (xenstore watch events). */
export function ownerToken(id: Identity): string {
  return inboxScope(id);
}

/** What `id` may do on NATS. Unknown services get only their inbox and fault control. */
export function natsPermissions(id: Identity): NatsPermissions {
  const scope = inboxScope(id);
  const sub = [`_INBOX.${scope}.>`];
  const pub: string[] = [];
  if (id.kind === "client") {
    // an admin client: fault control of every service, the CLI's xenstore watches, guests' status
    if (id.domid === 0) {
      pub.push(
        FAULT_SUBJECTS.all,
        CHAOS_SUBJECTS.all,
        METRICS_SUBJECTS.scrape,
        ...LINK_SUBJECTS.faultPrefixes.map((s) => `${s}.>`),
        TRACE_SUBJECTS.control,
      );
      sub.push(
        XENSTORE_SUBJECTS.watchOwner(scope),
        GUEST_SUBJECTS.statusAll,
        FAULT_SUBJECTS.inboxAll,
        CHAOS_SUBJECTS.inboxAll,
        METRICS_SUBJECTS.inboxAll,
        TRACE_SUBJECTS.eventsAll,
      );
    }
    return { publish: pub, subscribe: sub, allowResponses: true };
  }
  const svc = id.name;
  const host = id.host;
  // every service answers fault control for its own name, and hears its xenstore watch events
  sub.push(
    FAULT_SUBJECTS.set(svc),
    FAULT_SUBJECTS.set(FAULT_SUBJECTS.targetAll),
    FAULT_SUBJECTS.records(svc),
    FAULT_SUBJECTS.status,
    CHAOS_SUBJECTS.service(svc),
    // its host process's workers (kill, pause, restart): the host answers under a service's name
    CHAOS_SUBJECTS.host(host),
    CHAOS_SUBJECTS.hosts,
    METRICS_SUBJECTS.scrape,
    XENSTORE_SUBJECTS.watchOwner(scope),
    TRACE_SUBJECTS.control,
  );
  pub.push(TRACE_SUBJECTS.events(host, svc));
  // the host process (under its first service's credentials) says when one of its workers exited
  pub.push(CHAOS_SUBJECTS.workerExited(host));
  // a further instance (device-model-2) has its service's subjects; fault control under its own name
  switch (serviceKind(svc)) {
    case "hypervisor":
      // VIRQ_DOM_EXC as an event (event channels to other host processes travel on the link)
      pub.push(HYPERVISOR_SUBJECTS.domainExcAll);
      break;
    case "xenstored":
      // watch events of gRPC sessions go to their owner's subject only
      pub.push(XENSTORE_SUBJECTS.watchAll);
      sub.push(HYPERVISOR_SUBJECTS.domainExcAll);
      // its host process says when a worker exited (its in-process sessions close at once)
      sub.push(CHAOS_SUBJECTS.workerExited(host));
      break;
    case "page-server":
      // the link itself is a framed stream between page-servers; on NATS only: answering where its
      // own link listens and asking other hosts' (link.<host>.address, host ids may hold '.'), and
      // its own link fault hooks
      pub.push(LINK_SUBJECTS.all);
      sub.push(LINK_SUBJECTS.address(host), LINK_SUBJECTS.faults(host), LINK_SUBJECTS.faultRecords(host));
      break;
    case "guest":
      // its guests' status (their event channels to other host processes travel on the link)
      pub.push(GUEST_SUBJECTS.statusAll);
      sub.push(HYPERVISOR_SUBJECTS.domainExcAll);
      break;
    case "blkback":
    case "displback":
    case "device-model":
      sub.push(HYPERVISOR_SUBJECTS.domainExcAll);
      break;
    case "toolstack":
      // the dashboard: guests' status; the fault routes (/faults) drive every service's faults
      // from behind the API token and read the answers on their own inboxes
      pub.push(FAULT_SUBJECTS.all, CHAOS_SUBJECTS.all, METRICS_SUBJECTS.scrape, TRACE_SUBJECTS.control);
      // the link kinds of the chaos API (and its Toxiproxy-shaped /proxies): every page-server's hooks
      pub.push(...LINK_SUBJECTS.faultPrefixes.map((p) => `${p}.>`));
      sub.push(
        HYPERVISOR_SUBJECTS.domainExcAll,
        GUEST_SUBJECTS.statusAll,
        FAULT_SUBJECTS.inboxAll,
        CHAOS_SUBJECTS.inboxAll,
        METRICS_SUBJECTS.inboxAll,
        TRACE_SUBJECTS.eventsAll,
      );
      break;
    default:
      break;
  }
  return { publish: pub, subscribe: sub, allowResponses: true };
}

function list(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
}

export interface NatsUser {
  identity: Identity;
  /** The user's nkey public key ("U…"). */
  nkey: string;
}

/**
 * A nats-server (2.9) configuration: `listen`, the monitoring port, and one nkey user per identity
 * with its permissions. Nothing is allowed without credentials (no anonymous user).
 */
export function natsServerConfig(
  users: readonly NatsUser[],
  o: { listen?: string; httpPort?: number } = {},
): string {
  const lines = [
    "# Generated by `xensim keys init`: one nkey user per service of each host and per client, each",
    "# allowed exactly the subjects it owns (@xensim/security natsPermissions).",
    ...(o.listen ? [`listen: ${JSON.stringify(o.listen)}`] : []),
    ...(o.httpPort !== undefined ? [`http_port: ${o.httpPort}`] : []),
    "authorization {",
    "  # a client gets this long to sign the nonce and send CONNECT (nats-server's default is 2 s: a",
    "  # loaded machine starting every service at once missed it, and the client then waited out its",
    "  # connect timeout)",
    "  timeout: 15",
    "  users = [",
  ];
  for (const u of users) {
    const p = natsPermissions(u.identity);
    const who =
      u.identity.kind === "client" ? `client ${u.identity.name}` : `${u.identity.name}@${u.identity.host}`;
    lines.push(
      `    # ${who}`,
      `    { nkey: ${JSON.stringify(u.nkey)}, permissions: {`,
      `        publish: { allow: ${list(p.publish.length > 0 ? p.publish : ["_nothing_"])} },`,
      `        subscribe: { allow: ${list(p.subscribe)} },`,
      ...(p.allowResponses ? ["        allow_responses: true"] : []),
      "    } }",
    );
  }
  lines.push("  ]", "}", "");
  return lines.join("\n");
}
