// gRPC contracts of xensim: the .proto files beside this package, loaded with @grpc/proto-loader,
// typed by the code generated into ./gen (node scripts/gen-proto.mjs; CI fails when it is stale).
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType as DisplayProto } from "./gen/display.js";
import type { ProtoGrpcType as EchoProto } from "./gen/echo.js";
import type { ProtoGrpcType as GuestProto } from "./gen/guest.js";
import type { ProtoGrpcType as HypervisorProto } from "./gen/hypervisor.js";
import type { ProtoGrpcType as PageServerProto } from "./gen/pageserver.js";
import type { ProtoGrpcType as XenstoreProto } from "./gen/xenstore.js";

export type { DisplayClient, DisplayDefinition, DisplayHandlers } from "./gen/xensim/display/v1/Display.js";
export type { Frame, Frame__Output } from "./gen/xensim/display/v1/Frame.js";
export type { FrameRequest, FrameRequest__Output } from "./gen/xensim/display/v1/FrameRequest.js";
export type { Screen, Screen__Output } from "./gen/xensim/display/v1/Screen.js";
export type { ScreenList, ScreenList__Output } from "./gen/xensim/display/v1/ScreenList.js";
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
export type { CallerRef, CallerRef__Output } from "./gen/xensim/hypervisor/v1/CallerRef.js";
export type {
  DomainCreateReply,
  DomainCreateReply__Output,
} from "./gen/xensim/hypervisor/v1/DomainCreateReply.js";
export type {
  DomainCreateRequest,
  DomainCreateRequest__Output,
} from "./gen/xensim/hypervisor/v1/DomainCreateRequest.js";
export type { DomainExc, DomainExc__Output } from "./gen/xensim/hypervisor/v1/DomainExc.js";
export type { DomainInfo, DomainInfo__Output } from "./gen/xensim/hypervisor/v1/DomainInfo.js";
export type { DomainInfoReply, DomainInfoReply__Output } from "./gen/xensim/hypervisor/v1/DomainInfoReply.js";
export type { DomainListReply, DomainListReply__Output } from "./gen/xensim/hypervisor/v1/DomainListReply.js";
export type { DomainRef, DomainRef__Output } from "./gen/xensim/hypervisor/v1/DomainRef.js";
export type {
  DomainShutdownRequest,
  DomainShutdownRequest__Output,
} from "./gen/xensim/hypervisor/v1/DomainShutdownRequest.js";
export type { DomainState, DomainState__Output } from "./gen/xensim/hypervisor/v1/DomainState.js";
export type {
  EvtchnAllocUnboundRequest,
  EvtchnAllocUnboundRequest__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnAllocUnboundRequest.js";
export type {
  EvtchnBindInterdomainRequest,
  EvtchnBindInterdomainRequest__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnBindInterdomainRequest.js";
export type {
  EvtchnBindIpiRequest,
  EvtchnBindIpiRequest__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnBindIpiRequest.js";
export type {
  EvtchnBindVcpuRequest,
  EvtchnBindVcpuRequest__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnBindVcpuRequest.js";
export type {
  EvtchnBindVirqRequest,
  EvtchnBindVirqRequest__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnBindVirqRequest.js";
export type {
  EvtchnStatusReply,
  EvtchnStatusReply__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnStatusReply.js";
export type {
  EvtchnStatusRequest,
  EvtchnStatusRequest__Output,
} from "./gen/xensim/hypervisor/v1/EvtchnStatusRequest.js";
export type { FramesReply, FramesReply__Output } from "./gen/xensim/hypervisor/v1/FramesReply.js";
export type {
  GfnToFrameRequest,
  GfnToFrameRequest__Output,
} from "./gen/xensim/hypervisor/v1/GfnToFrameRequest.js";
export type { GnttabCopyOp, GnttabCopyOp__Output } from "./gen/xensim/hypervisor/v1/GnttabCopyOp.js";
export type { GnttabCopyPtr, GnttabCopyPtr__Output } from "./gen/xensim/hypervisor/v1/GnttabCopyPtr.js";
export type {
  GnttabCopyRequest,
  GnttabCopyRequest__Output,
} from "./gen/xensim/hypervisor/v1/GnttabCopyRequest.js";
export type {
  GnttabEndAccessReply,
  GnttabEndAccessReply__Output,
} from "./gen/xensim/hypervisor/v1/GnttabEndAccessReply.js";
export type {
  GnttabEndAccessRequest,
  GnttabEndAccessRequest__Output,
} from "./gen/xensim/hypervisor/v1/GnttabEndAccessRequest.js";
export type {
  GnttabGrantAccessRequest,
  GnttabGrantAccessRequest__Output,
} from "./gen/xensim/hypervisor/v1/GnttabGrantAccessRequest.js";
export type { GnttabMapOp, GnttabMapOp__Output } from "./gen/xensim/hypervisor/v1/GnttabMapOp.js";
export type { GnttabMapReply, GnttabMapReply__Output } from "./gen/xensim/hypervisor/v1/GnttabMapReply.js";
export type {
  GnttabMapRequest,
  GnttabMapRequest__Output,
} from "./gen/xensim/hypervisor/v1/GnttabMapRequest.js";
export type { GnttabMapResult, GnttabMapResult__Output } from "./gen/xensim/hypervisor/v1/GnttabMapResult.js";
export type {
  GnttabQuerySizeReply,
  GnttabQuerySizeReply__Output,
} from "./gen/xensim/hypervisor/v1/GnttabQuerySizeReply.js";
export type {
  GnttabSetupTableReply,
  GnttabSetupTableReply__Output,
} from "./gen/xensim/hypervisor/v1/GnttabSetupTableReply.js";
export type {
  GnttabSetupTableRequest,
  GnttabSetupTableRequest__Output,
} from "./gen/xensim/hypervisor/v1/GnttabSetupTableRequest.js";
export type {
  GnttabStatusReply,
  GnttabStatusReply__Output,
} from "./gen/xensim/hypervisor/v1/GnttabStatusReply.js";
export type { GnttabUnmapOp, GnttabUnmapOp__Output } from "./gen/xensim/hypervisor/v1/GnttabUnmapOp.js";
export type {
  GnttabUnmapRequest,
  GnttabUnmapRequest__Output,
} from "./gen/xensim/hypervisor/v1/GnttabUnmapRequest.js";
export type { HvmParam, HvmParam__Output } from "./gen/xensim/hypervisor/v1/HvmParam.js";
export type { HvmParamReply, HvmParamReply__Output } from "./gen/xensim/hypervisor/v1/HvmParamReply.js";
export type { HvmParamRequest, HvmParamRequest__Output } from "./gen/xensim/hypervisor/v1/HvmParamRequest.js";
export type {
  HypervisorClient,
  HypervisorDefinition,
  HypervisorHandlers,
} from "./gen/xensim/hypervisor/v1/Hypervisor.js";
export type {
  PopulatePhysmapRequest,
  PopulatePhysmapRequest__Output,
} from "./gen/xensim/hypervisor/v1/PopulatePhysmapRequest.js";
export type { PortReply, PortReply__Output } from "./gen/xensim/hypervisor/v1/PortReply.js";
export type { PortRequest, PortRequest__Output } from "./gen/xensim/hypervisor/v1/PortRequest.js";
export type { RcReply, RcReply__Output } from "./gen/xensim/hypervisor/v1/RcReply.js";
export type {
  AllocFramesReply,
  AllocFramesReply__Output,
} from "./gen/xensim/pageserver/v1/AllocFramesReply.js";
export type {
  AllocFramesRequest,
  AllocFramesRequest__Output,
} from "./gen/xensim/pageserver/v1/AllocFramesRequest.js";
export type { FrameWrite, FrameWrite__Output } from "./gen/xensim/pageserver/v1/FrameWrite.js";
export type { LinkPeer, LinkPeer__Output } from "./gen/xensim/pageserver/v1/LinkPeer.js";
export type { LinkStatusReply, LinkStatusReply__Output } from "./gen/xensim/pageserver/v1/LinkStatusReply.js";
export type {
  WriteFramesReply,
  WriteFramesReply__Output,
} from "./gen/xensim/pageserver/v1/WriteFramesReply.js";
export type { ReadFrameReply, ReadFrameReply__Output } from "./gen/xensim/pageserver/v1/ReadFrameReply.js";
export type {
  ReadFrameRequest,
  ReadFrameRequest__Output,
} from "./gen/xensim/pageserver/v1/ReadFrameRequest.js";
export type {
  WriteFramesRequest,
  WriteFramesRequest__Output,
} from "./gen/xensim/pageserver/v1/WriteFramesRequest.js";
export type {
  PageServerClient,
  PageServerDefinition,
  PageServerHandlers,
} from "./gen/xensim/pageserver/v1/PageServer.js";
export type { BootReply, BootReply__Output } from "./gen/xensim/guest/v1/BootReply.js";
export type { BootRequest, BootRequest__Output } from "./gen/xensim/guest/v1/BootRequest.js";
export type { DiskStatus, DiskStatus__Output } from "./gen/xensim/guest/v1/DiskStatus.js";
export type { GuestList, GuestList__Output } from "./gen/xensim/guest/v1/GuestList.js";
export type { GuestRc, GuestRc__Output } from "./gen/xensim/guest/v1/GuestRc.js";
export type { GuestRef, GuestRef__Output } from "./gen/xensim/guest/v1/GuestRef.js";
export type { GuestStatus, GuestStatus__Output } from "./gen/xensim/guest/v1/GuestStatus.js";
export type {
  DiskStatusJson,
  GuestState,
  GuestStatusJson,
  KexecStatusJson,
  WorkloadPhase,
} from "./guest-status.js";
export type { WorkloadStatus, WorkloadStatus__Output } from "./gen/xensim/guest/v1/WorkloadStatus.js";
export type { GuestClient, GuestDefinition, GuestHandlers } from "./gen/xensim/guest/v1/Guest.js";
export type { EchoProto, GuestProto, HypervisorProto, PageServerProto, XenstoreProto };

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

export function loadHypervisorProto(): HypervisorProto {
  return load<HypervisorProto>("xensim/hypervisor/v1/hypervisor.proto");
}

export function loadPageServerProto(): PageServerProto {
  return load<PageServerProto>("xensim/pageserver/v1/pageserver.proto");
}

export function loadGuestProto(): GuestProto {
  return load<GuestProto>("xensim/guest/v1/guest.proto");
}

export function loadDisplayProto(): DisplayProto {
  return load<DisplayProto>("xensim/display/v1/display.proto");
}

export function loadEchoProto(): EchoProto {
  return load<EchoProto>("xensim/testing/v1/echo.proto");
}

// ---- xensim/hypervisor/v1/dmop.proto: HYPERVISOR_dm_op and XENMEM_acquire_resource ----
import type { ProtoGrpcType as DmOpProto } from "./gen/dmop.js";
export type { DmOpProto };
export type { DmOpClient, DmOpDefinition, DmOpHandlers } from "./gen/xensim/hypervisor/v1/DmOp.js";
export type { DmOpRequest, DmOpRequest__Output } from "./gen/xensim/hypervisor/v1/DmOpRequest.js";
export type { DmOpReply, DmOpReply__Output } from "./gen/xensim/hypervisor/v1/DmOpReply.js";
export type { DmOpRcReply, DmOpRcReply__Output } from "./gen/xensim/hypervisor/v1/DmOpRcReply.js";
export type {
  AcquireResourceRequest,
  AcquireResourceRequest__Output,
} from "./gen/xensim/hypervisor/v1/AcquireResourceRequest.js";
export type {
  AcquireResourceReply,
  AcquireResourceReply__Output,
} from "./gen/xensim/hypervisor/v1/AcquireResourceReply.js";
export type {
  ReleaseResourceRequest,
  ReleaseResourceRequest__Output,
} from "./gen/xensim/hypervisor/v1/ReleaseResourceRequest.js";
export type {
  IoreqServerListRequest,
  IoreqServerListRequest__Output,
} from "./gen/xensim/hypervisor/v1/IoreqServerListRequest.js";
export type {
  IoreqServerListReply,
  IoreqServerListReply__Output,
} from "./gen/xensim/hypervisor/v1/IoreqServerListReply.js";
export type { IoreqServerInfo, IoreqServerInfo__Output } from "./gen/xensim/hypervisor/v1/IoreqServerInfo.js";
export type { IoreqRange, IoreqRange__Output } from "./gen/xensim/hypervisor/v1/IoreqRange.js";

export function loadDmOpProto(): DmOpProto {
  return load<DmOpProto>("xensim/hypervisor/v1/dmop.proto");
}

// ---- xensim/devicemodel/v1/devicemodel.proto: the device-model service ----
import type { ProtoGrpcType as DeviceModelProto } from "./gen/devicemodel.js";
export type { DeviceModelProto };
export type {
  DeviceModelClient,
  DeviceModelDefinition,
  DeviceModelHandlers,
} from "./gen/xensim/devicemodel/v1/DeviceModel.js";
export type { StartRequest, StartRequest__Output } from "./gen/xensim/devicemodel/v1/StartRequest.js";
export type { StartReply, StartReply__Output } from "./gen/xensim/devicemodel/v1/StartReply.js";
export type { EmulatorRef, EmulatorRef__Output } from "./gen/xensim/devicemodel/v1/EmulatorRef.js";
export type { DmRc, DmRc__Output } from "./gen/xensim/devicemodel/v1/DmRc.js";
export type {
  SaveStateRequest,
  SaveStateRequest__Output,
} from "./gen/xensim/devicemodel/v1/SaveStateRequest.js";
export type { SaveStateReply, SaveStateReply__Output } from "./gen/xensim/devicemodel/v1/SaveStateReply.js";
export type {
  ConsoleReadRequest,
  ConsoleReadRequest__Output,
} from "./gen/xensim/devicemodel/v1/ConsoleReadRequest.js";
export type {
  ConsoleReadReply,
  ConsoleReadReply__Output,
} from "./gen/xensim/devicemodel/v1/ConsoleReadReply.js";
export type {
  ConsoleWriteRequest,
  ConsoleWriteRequest__Output,
} from "./gen/xensim/devicemodel/v1/ConsoleWriteRequest.js";
export type { VgaTextRequest, VgaTextRequest__Output } from "./gen/xensim/devicemodel/v1/VgaTextRequest.js";
export type { VgaTextReply, VgaTextReply__Output } from "./gen/xensim/devicemodel/v1/VgaTextReply.js";
export type { EmulatorInfo, EmulatorInfo__Output } from "./gen/xensim/devicemodel/v1/EmulatorInfo.js";
export type { EmulatorList, EmulatorList__Output } from "./gen/xensim/devicemodel/v1/EmulatorList.js";

export function loadDeviceModelProto(): DeviceModelProto {
  return load<DeviceModelProto>("xensim/devicemodel/v1/devicemodel.proto");
}
