// The credentials directory `xensim keys init DIR` makes, and loading a service's part of it:
//
//   DIR/                          0700
//     ca.crt  ca.key              the local CA (ca.key 0600; only `keys init`/`keys add` read it)
//     api-token                   the toolstack API's bearer token (0600)
//     nats-server.conf            nats-server 2.9 config: one nkey user per service and client
//     hosts/<host>/<svc>.crt .key .nk   a service's certificate, key and NATS nkey seed (0600)
//     clients/<name>.crt .key .nk       a client tool's (the CLI as admin)
//     manifest.json               which hosts run which services, which clients exist
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { ALL_SERVICES, clientIdentity, type Identity, isValidName, serviceIdentity } from "./identity.js";
import { natsServerConfig, type NatsUser } from "./nats.js";
import type { PemPair } from "./pki.js";

export interface KeysManifest {
  version: 1;
  hosts: Record<string, string[]>;
  clients: string[];
  /** Extra DNS names in every service certificate (container host names). */
  dnsNames: string[];
  createdAt: string;
}

export interface KeysInitOptions {
  /** host id → the services it runs (default: `{ <hostname>: every service }`). */
  hosts: Record<string, readonly string[]>;
  /** Client tools (default ["admin"]: the CLI, privileged). */
  clients?: readonly string[];
  /** DNS names added to each service certificate besides its host id and localhost. */
  dnsNames?: readonly string[];
  /** nats-server.conf `listen` (default "127.0.0.1:4222") and monitoring port (default none). */
  natsListen?: string;
  natsHttpPort?: number;
  /** Replace an existing directory's material (default: refuse). */
  force?: boolean;
}

function writeSecret(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function writePublic(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o644 });
}

/** The identity `keys init` gives a client: "admin" acts as dom0, others as nobody in particular. */
export function clientIdentityOf(name: string): Identity {
  return name === "admin" ? { ...clientIdentity(name), domid: 0 } : clientIdentity(name);
}

/** Makes the credentials directory (see the file comment). Returns its manifest. */
export async function initKeys(dir: string, options: KeysInitOptions): Promise<KeysManifest> {
  if (existsSync(join(dir, "ca.key")) && !options.force)
    throw new Error(`${dir} already holds credentials (ca.key): use --force to replace them`);
  const clients = [...(options.clients ?? ["admin"])];
  for (const [h, svcs] of Object.entries(options.hosts)) {
    if (!isValidName(h)) throw new Error(`host id '${h}' must be letters, digits, '.', '_' or '-'`);
    for (const s of svcs) if (!isValidName(s)) throw new Error(`service name '${s}' is not valid`);
  }
  for (const c of clients) if (!isValidName(c)) throw new Error(`client name '${c}' is not valid`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // the X.509 library is big: loaded only here, never by the services that merely use credentials
  const { createCa, issueCertificate } = await import("./pki.js");
  const ca = await createCa();
  writePublic(join(dir, "ca.crt"), ca.cert);
  writeSecret(join(dir, "ca.key"), ca.key);
  writeSecret(join(dir, "api-token"), `${randomBytes(32).toString("base64url")}\n`);
  const users: NatsUser[] = [];
  const issue = async (sub: string, base: string, id: Identity, dns: readonly string[]) => {
    const pair = await issueCertificate(ca, id, { dnsNames: dns });
    const d = join(dir, sub);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    writePublic(join(d, `${base}.crt`), pair.cert);
    writeSecret(join(d, `${base}.key`), pair.key);
    const nk = createUser();
    writeSecret(join(d, `${base}.nk`), `${new TextDecoder().decode(nk.getSeed())}\n`);
    users.push({ identity: id, nkey: nk.getPublicKey() });
  };
  for (const [host, svcs] of Object.entries(options.hosts))
    for (const s of svcs)
      await issue(join("hosts", host), s, serviceIdentity(host, s), [
        host,
        "localhost",
        ...(options.dnsNames ?? []),
      ]);
  for (const c of clients) await issue("clients", c, clientIdentityOf(c), ["localhost"]);
  writePublic(
    join(dir, "nats-server.conf"),
    natsServerConfig(users, {
      listen: options.natsListen ?? "127.0.0.1:4222",
      ...(options.natsHttpPort !== undefined ? { httpPort: options.natsHttpPort } : {}),
    }),
  );
  const manifest: KeysManifest = {
    version: 1,
    hosts: Object.fromEntries(Object.entries(options.hosts).map(([h, s]) => [h, [...s]])),
    clients,
    dnsNames: [...(options.dnsNames ?? [])],
    createdAt: new Date().toISOString(),
  };
  writePublic(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Every service (and xensim up's second emulator, device-model-2), for `keys init` with no --host. */
export const DEFAULT_HOST_SERVICES: readonly string[] = [...ALL_SERVICES, "device-model-2"];

/** One party's loaded credentials: what its transports need, nothing of the CA's key. */
export interface Credentials {
  identity: Identity;
  /** CA certificate (PEM): peers must chain to it. */
  ca: string;
  /** This party's certificate and key (PEM). */
  tls: PemPair;
  /** NATS nkey seed ("SU…"). */
  natsSeed: string;
}

function readPem(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch (e) {
    throw new Error(`credentials: cannot read ${p} (${(e as Error).message}); run \`xensim keys init\``, {
      cause: e,
    });
  }
}

/**
 * Loads a service's credentials for `host` (a restarted incarnation `<host>.<suffix>` uses its
 * host's), or a client's (`{ client: name }`).
 */
export function loadCredentials(
  dir: string,
  who: { host: string; service: string } | { client: string },
): Credentials {
  let base: string;
  let identity: Identity;
  if ("client" in who) {
    base = join(dir, "clients", who.client);
    identity = clientIdentityOf(who.client);
  } else {
    const manifest = loadManifest(dir);
    const host =
      Object.keys(manifest.hosts).find((h) => h === who.host) ??
      Object.keys(manifest.hosts).find((h) => who.host.startsWith(`${h}.`));
    if (host === undefined)
      throw new Error(
        `credentials: ${dir} has none for host '${who.host}' (hosts: ${Object.keys(manifest.hosts).join(", ")})`,
      );
    if (!manifest.hosts[host]?.includes(who.service))
      throw new Error(`credentials: ${dir} has none for ${who.service} on host '${host}'`);
    base = join(dir, "hosts", host, who.service);
    identity = serviceIdentity(host, who.service);
  }
  const seed = readPem(`${base}.nk`).trim();
  fromSeed(new TextEncoder().encode(seed)); // throws on a damaged seed
  return {
    identity,
    ca: readPem(join(dir, "ca.crt")),
    tls: { cert: readPem(`${base}.crt`), key: readPem(`${base}.key`) },
    natsSeed: seed,
  };
}

export function loadManifest(dir: string): KeysManifest {
  const m = JSON.parse(readPem(join(dir, "manifest.json"))) as KeysManifest;
  if (m.version !== 1) throw new Error(`credentials: ${dir}/manifest.json has version ${m.version}`);
  return m;
}

/** The toolstack API token of a credentials directory. */
export function loadApiToken(dir: string): string {
  const t = readPem(join(dir, "api-token")).trim();
  if (t.length < 16) throw new Error(`credentials: ${dir}/api-token is too short`);
  return t;
}
