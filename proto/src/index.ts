// gRPC contracts of xensim: the .proto files beside this package, loaded with @grpc/proto-loader,
// typed by the code generated into ./gen (node scripts/gen-proto.mjs; CI fails when it is stale).
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType as EchoProto } from "./gen/echo.js";
import type { ProtoGrpcType as XenstoreProto } from "./gen/xenstore.js";

export type { EchoClient, EchoDefinition, EchoHandlers } from "./gen/xensim/testing/v1/Echo.js";
export type { EchoReply, EchoReply__Output } from "./gen/xensim/testing/v1/EchoReply.js";
export type { EchoRequest, EchoRequest__Output } from "./gen/xensim/testing/v1/EchoRequest.js";
export type {
  OpenSessionReply,
  OpenSessionReply__Output,
} from "./gen/xensim/xenstore/v1/OpenSessionReply.js";
export type {
  OpenSessionRequest,
  OpenSessionRequest__Output,
} from "./gen/xensim/xenstore/v1/OpenSessionRequest.js";
export type { SessionRef, SessionRef__Output } from "./gen/xensim/xenstore/v1/SessionRef.js";
export type { WatchEvent, WatchEvent__Output } from "./gen/xensim/xenstore/v1/WatchEvent.js";
export type {
  XenstoreClient,
  XenstoreDefinition,
  XenstoreHandlers,
} from "./gen/xensim/xenstore/v1/Xenstore.js";
export type { XsReply, XsReply__Output } from "./gen/xensim/xenstore/v1/XsReply.js";
export type { XsRequest, XsRequest__Output } from "./gen/xensim/xenstore/v1/XsRequest.js";
export type { EchoProto, XenstoreProto };

/** Loader options; they must match the flags scripts/gen-proto.mjs passes to the generator. */
export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** Directory holding the .proto files (the include root). */
export const PROTO_DIR = fileURLToPath(new URL("..", import.meta.url));

const cache = new Map<string, unknown>();
function load<T>(file: string): T {
  let v = cache.get(file);
  if (!v) {
    const def = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    v = grpc.loadPackageDefinition(def);
    cache.set(file, v);
  }
  return v as T;
}

export function loadXenstoreProto(): XenstoreProto {
  return load<XenstoreProto>("xensim/xenstore/v1/xenstore.proto");
}

export function loadEchoProto(): EchoProto {
  return load<EchoProto>("xensim/testing/v1/echo.proto");
}
