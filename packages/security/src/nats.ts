// NATS users and what each may publish and subscribe to. Subjects are named where they are used
// (xenctrl HYPERVISOR_SUBJECTS, the guest runtime's GUEST_SUBJECTS, xenstored's WATCH_SUBJECT_PREFIX,
// the bus's fault control and inboxes, @xensim/link's LINK_SUBJECTS); this table grants
// each service exactly what it owns: a forged `hypervisor.domain.<id>.exc` from anyone but the
// hypervisor, fault rules set by anyone but an admin client, or `>` snooped by a stranger are refused
// by nats-server itself. The isolation test runs the services under these permissions and checks
// that nothing they do is refused, and that everything outside them is.
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

const FAULT = "xensim.fault";
/** The chaos plane (@xensim/chaos): a service's fault points, host processes' workers. */
const CHAOS = "xensim.chaos";
/** @xensim/link LINK_SUBJECTS: a page-server's link fault hooks and their records. */
const LINK_FAULTS = ["xensim.link.faults", "xensim.link.faultrecords"];
/** @xensim/runtime bus-metrics: every service answers a scrape; the dashboard and admin scrape. */
const METRICS = "xensim.metrics";
/**
 * @xensim/runtime bus-trace: every service hears the trace switch and sends its own events on
 * `xensim.trace.events.<host>.<svc>`; the toolstack (GET /trace) and admin clients switch and listen.
 */
const TRACE = "xensim.trace";

/** A host or service name as one subject token (as @xensim/runtime's bus-trace writes it). */
export function traceToken(s: string): string {
  return s.replace(/[.*>\s]/g, "_") || "_";
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
        `${FAULT}.>`,
        `${CHAOS}.>`,
        `${METRICS}.scrape`,
        ...LINK_FAULTS.map((s) => `${s}.>`),
        `${TRACE}.control`,
      );
      sub.push(
        `xenstore.watch.${scope}.>`,
        "guest.*.status",
        `${FAULT}.inbox.>`,
        `${CHAOS}.inbox.>`,
        `${METRICS}.inbox.>`,
        `${TRACE}.events.>`,
      );
    }
    return { publish: pub, subscribe: sub, allowResponses: true };
  }
  const svc = id.name;
  const host = id.host;
  // every service answers fault control for its own name, and hears its xenstore watch events
  sub.push(
    `${FAULT}.set.${svc}`,
    `${FAULT}.set.all`,
    `${FAULT}.records.${svc}`,
    `${FAULT}.status`,
    `${CHAOS}.svc.${svc}`,
    // its host process's workers (kill, pause, restart): the host answers under a service's name
    `${CHAOS}.host.${host}`,
    `${CHAOS}.hosts`,
    `${METRICS}.scrape`,
    `xenstore.watch.${scope}.>`,
    `${TRACE}.control`,
  );
  pub.push(`${TRACE}.events.${traceToken(host)}.${traceToken(svc)}`);
  // a further instance (device-model-2) has its service's subjects; fault control under its own name
  switch (serviceKind(svc)) {
    case "hypervisor":
      // VIRQ_DOM_EXC as an event (event channels to other host processes travel on the link)
      pub.push("hypervisor.domain.*.exc");
      break;
    case "xenstored":
      // watch events of gRPC sessions go to their owner's subject only
      pub.push("xenstore.watch.>");
      sub.push("hypervisor.domain.*.exc");
      break;
    case "page-server":
      // the link itself is a framed stream between page-servers; on NATS only: answering where its
      // own link listens and asking other hosts' (link.<host>.address, host ids may hold '.'), and
      // its own link fault hooks
      pub.push("link.>");
      sub.push(`link.${host}.address`, ...LINK_FAULTS.map((s) => `${s}.${host}`));
      break;
    case "guest":
      // its guests' status (their event channels to other host processes travel on the link)
      pub.push("guest.*.status");
      sub.push("hypervisor.domain.*.exc");
      break;
    case "blkback":
    case "displback":
    case "device-model":
      sub.push("hypervisor.domain.*.exc");
      break;
    case "toolstack":
      // the dashboard: guests' status; the fault routes (/faults) drive every service's faults
      // from behind the API token and read the answers on their own inboxes
      pub.push(`${FAULT}.>`, `${CHAOS}.>`, `${METRICS}.scrape`, `${TRACE}.control`);
      sub.push(
        "hypervisor.domain.*.exc",
        "guest.*.status",
        `${FAULT}.inbox.>`,
        `${CHAOS}.inbox.>`,
        `${METRICS}.inbox.>`,
        `${TRACE}.events.>`,
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
