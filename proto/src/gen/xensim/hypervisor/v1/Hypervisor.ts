// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CallerRef as _xensim_hypervisor_v1_CallerRef, CallerRef__Output as _xensim_hypervisor_v1_CallerRef__Output } from '../../../xensim/hypervisor/v1/CallerRef.js';
import type { DomainCreateReply as _xensim_hypervisor_v1_DomainCreateReply, DomainCreateReply__Output as _xensim_hypervisor_v1_DomainCreateReply__Output } from '../../../xensim/hypervisor/v1/DomainCreateReply.js';
import type { DomainCreateRequest as _xensim_hypervisor_v1_DomainCreateRequest, DomainCreateRequest__Output as _xensim_hypervisor_v1_DomainCreateRequest__Output } from '../../../xensim/hypervisor/v1/DomainCreateRequest.js';
import type { DomainInfoReply as _xensim_hypervisor_v1_DomainInfoReply, DomainInfoReply__Output as _xensim_hypervisor_v1_DomainInfoReply__Output } from '../../../xensim/hypervisor/v1/DomainInfoReply.js';
import type { DomainListReply as _xensim_hypervisor_v1_DomainListReply, DomainListReply__Output as _xensim_hypervisor_v1_DomainListReply__Output } from '../../../xensim/hypervisor/v1/DomainListReply.js';
import type { DomainRef as _xensim_hypervisor_v1_DomainRef, DomainRef__Output as _xensim_hypervisor_v1_DomainRef__Output } from '../../../xensim/hypervisor/v1/DomainRef.js';
import type { DomainShutdownRequest as _xensim_hypervisor_v1_DomainShutdownRequest, DomainShutdownRequest__Output as _xensim_hypervisor_v1_DomainShutdownRequest__Output } from '../../../xensim/hypervisor/v1/DomainShutdownRequest.js';
import type { EvtchnAllocUnboundRequest as _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, EvtchnAllocUnboundRequest__Output as _xensim_hypervisor_v1_EvtchnAllocUnboundRequest__Output } from '../../../xensim/hypervisor/v1/EvtchnAllocUnboundRequest.js';
import type { EvtchnBindInterdomainRequest as _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, EvtchnBindInterdomainRequest__Output as _xensim_hypervisor_v1_EvtchnBindInterdomainRequest__Output } from '../../../xensim/hypervisor/v1/EvtchnBindInterdomainRequest.js';
import type { EvtchnBindIpiRequest as _xensim_hypervisor_v1_EvtchnBindIpiRequest, EvtchnBindIpiRequest__Output as _xensim_hypervisor_v1_EvtchnBindIpiRequest__Output } from '../../../xensim/hypervisor/v1/EvtchnBindIpiRequest.js';
import type { EvtchnBindVcpuRequest as _xensim_hypervisor_v1_EvtchnBindVcpuRequest, EvtchnBindVcpuRequest__Output as _xensim_hypervisor_v1_EvtchnBindVcpuRequest__Output } from '../../../xensim/hypervisor/v1/EvtchnBindVcpuRequest.js';
import type { EvtchnBindVirqRequest as _xensim_hypervisor_v1_EvtchnBindVirqRequest, EvtchnBindVirqRequest__Output as _xensim_hypervisor_v1_EvtchnBindVirqRequest__Output } from '../../../xensim/hypervisor/v1/EvtchnBindVirqRequest.js';
import type { EvtchnStatusReply as _xensim_hypervisor_v1_EvtchnStatusReply, EvtchnStatusReply__Output as _xensim_hypervisor_v1_EvtchnStatusReply__Output } from '../../../xensim/hypervisor/v1/EvtchnStatusReply.js';
import type { EvtchnStatusRequest as _xensim_hypervisor_v1_EvtchnStatusRequest, EvtchnStatusRequest__Output as _xensim_hypervisor_v1_EvtchnStatusRequest__Output } from '../../../xensim/hypervisor/v1/EvtchnStatusRequest.js';
import type { FramesReply as _xensim_hypervisor_v1_FramesReply, FramesReply__Output as _xensim_hypervisor_v1_FramesReply__Output } from '../../../xensim/hypervisor/v1/FramesReply.js';
import type { GfnToFrameRequest as _xensim_hypervisor_v1_GfnToFrameRequest, GfnToFrameRequest__Output as _xensim_hypervisor_v1_GfnToFrameRequest__Output } from '../../../xensim/hypervisor/v1/GfnToFrameRequest.js';
import type { GnttabCopyRequest as _xensim_hypervisor_v1_GnttabCopyRequest, GnttabCopyRequest__Output as _xensim_hypervisor_v1_GnttabCopyRequest__Output } from '../../../xensim/hypervisor/v1/GnttabCopyRequest.js';
import type { GnttabEndAccessReply as _xensim_hypervisor_v1_GnttabEndAccessReply, GnttabEndAccessReply__Output as _xensim_hypervisor_v1_GnttabEndAccessReply__Output } from '../../../xensim/hypervisor/v1/GnttabEndAccessReply.js';
import type { GnttabEndAccessRequest as _xensim_hypervisor_v1_GnttabEndAccessRequest, GnttabEndAccessRequest__Output as _xensim_hypervisor_v1_GnttabEndAccessRequest__Output } from '../../../xensim/hypervisor/v1/GnttabEndAccessRequest.js';
import type { GnttabGrantAccessRequest as _xensim_hypervisor_v1_GnttabGrantAccessRequest, GnttabGrantAccessRequest__Output as _xensim_hypervisor_v1_GnttabGrantAccessRequest__Output } from '../../../xensim/hypervisor/v1/GnttabGrantAccessRequest.js';
import type { GnttabMapReply as _xensim_hypervisor_v1_GnttabMapReply, GnttabMapReply__Output as _xensim_hypervisor_v1_GnttabMapReply__Output } from '../../../xensim/hypervisor/v1/GnttabMapReply.js';
import type { GnttabMapRequest as _xensim_hypervisor_v1_GnttabMapRequest, GnttabMapRequest__Output as _xensim_hypervisor_v1_GnttabMapRequest__Output } from '../../../xensim/hypervisor/v1/GnttabMapRequest.js';
import type { GnttabQuerySizeReply as _xensim_hypervisor_v1_GnttabQuerySizeReply, GnttabQuerySizeReply__Output as _xensim_hypervisor_v1_GnttabQuerySizeReply__Output } from '../../../xensim/hypervisor/v1/GnttabQuerySizeReply.js';
import type { GnttabSetupTableReply as _xensim_hypervisor_v1_GnttabSetupTableReply, GnttabSetupTableReply__Output as _xensim_hypervisor_v1_GnttabSetupTableReply__Output } from '../../../xensim/hypervisor/v1/GnttabSetupTableReply.js';
import type { GnttabSetupTableRequest as _xensim_hypervisor_v1_GnttabSetupTableRequest, GnttabSetupTableRequest__Output as _xensim_hypervisor_v1_GnttabSetupTableRequest__Output } from '../../../xensim/hypervisor/v1/GnttabSetupTableRequest.js';
import type { GnttabStatusReply as _xensim_hypervisor_v1_GnttabStatusReply, GnttabStatusReply__Output as _xensim_hypervisor_v1_GnttabStatusReply__Output } from '../../../xensim/hypervisor/v1/GnttabStatusReply.js';
import type { GnttabUnmapRequest as _xensim_hypervisor_v1_GnttabUnmapRequest, GnttabUnmapRequest__Output as _xensim_hypervisor_v1_GnttabUnmapRequest__Output } from '../../../xensim/hypervisor/v1/GnttabUnmapRequest.js';
import type { HvmParamReply as _xensim_hypervisor_v1_HvmParamReply, HvmParamReply__Output as _xensim_hypervisor_v1_HvmParamReply__Output } from '../../../xensim/hypervisor/v1/HvmParamReply.js';
import type { HvmParamRequest as _xensim_hypervisor_v1_HvmParamRequest, HvmParamRequest__Output as _xensim_hypervisor_v1_HvmParamRequest__Output } from '../../../xensim/hypervisor/v1/HvmParamRequest.js';
import type { PopulatePhysmapRequest as _xensim_hypervisor_v1_PopulatePhysmapRequest, PopulatePhysmapRequest__Output as _xensim_hypervisor_v1_PopulatePhysmapRequest__Output } from '../../../xensim/hypervisor/v1/PopulatePhysmapRequest.js';
import type { PortReply as _xensim_hypervisor_v1_PortReply, PortReply__Output as _xensim_hypervisor_v1_PortReply__Output } from '../../../xensim/hypervisor/v1/PortReply.js';
import type { PortRequest as _xensim_hypervisor_v1_PortRequest, PortRequest__Output as _xensim_hypervisor_v1_PortRequest__Output } from '../../../xensim/hypervisor/v1/PortRequest.js';
import type { RcReply as _xensim_hypervisor_v1_RcReply, RcReply__Output as _xensim_hypervisor_v1_RcReply__Output } from '../../../xensim/hypervisor/v1/RcReply.js';

export interface HypervisorClient extends grpc.Client {
  DomainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  DomainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  DomainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  DomainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  domainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  domainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  domainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  domainCreate(argument: _xensim_hypervisor_v1_DomainCreateRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainCreateReply__Output>): grpc.ClientUnaryCall;
  
  DomainDestroy(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainDestroy(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainDestroy(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainDestroy(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainDestroy(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainDestroy(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainDestroy(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainDestroy(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  DomainInfo(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  DomainInfo(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  DomainInfo(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  DomainInfo(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  domainInfo(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  domainInfo(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  domainInfo(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  domainInfo(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainInfoReply__Output>): grpc.ClientUnaryCall;
  
  DomainList(argument: _xensim_hypervisor_v1_CallerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  DomainList(argument: _xensim_hypervisor_v1_CallerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  DomainList(argument: _xensim_hypervisor_v1_CallerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  DomainList(argument: _xensim_hypervisor_v1_CallerRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  domainList(argument: _xensim_hypervisor_v1_CallerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  domainList(argument: _xensim_hypervisor_v1_CallerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  domainList(argument: _xensim_hypervisor_v1_CallerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  domainList(argument: _xensim_hypervisor_v1_CallerRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_DomainListReply__Output>): grpc.ClientUnaryCall;
  
  DomainPause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainPause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainPause(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainPause(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainPause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainPause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainPause(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainPause(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  DomainResume(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainResume(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainResume(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainResume(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainResume(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainResume(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainResume(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainResume(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  DomainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainShutdown(argument: _xensim_hypervisor_v1_DomainShutdownRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  DomainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainSoftReset(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  DomainUnpause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainUnpause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainUnpause(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  DomainUnpause(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainUnpause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainUnpause(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainUnpause(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  domainUnpause(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnAllocUnbound(argument: _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindInterdomain(argument: _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindIpi(argument: _xensim_hypervisor_v1_EvtchnBindIpiRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVcpu(argument: _xensim_hypervisor_v1_EvtchnBindVcpuRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  EvtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  evtchnBindVirq(argument: _xensim_hypervisor_v1_EvtchnBindVirqRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_PortReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnClose(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnClose(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnClose(argument: _xensim_hypervisor_v1_PortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnClose(argument: _xensim_hypervisor_v1_PortRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnClose(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnClose(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnClose(argument: _xensim_hypervisor_v1_PortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnClose(argument: _xensim_hypervisor_v1_PortRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnReset(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnReset(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnReset(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnReset(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnReset(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnSend(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnSend(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnSend(argument: _xensim_hypervisor_v1_PortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnSend(argument: _xensim_hypervisor_v1_PortRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnSend(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnSend(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnSend(argument: _xensim_hypervisor_v1_PortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnSend(argument: _xensim_hypervisor_v1_PortRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  EvtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  EvtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  EvtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  evtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  evtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  evtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  evtchnStatus(argument: _xensim_hypervisor_v1_EvtchnStatusRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_EvtchnStatusReply__Output>): grpc.ClientUnaryCall;
  
  EvtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  EvtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  evtchnUnmask(argument: _xensim_hypervisor_v1_PortRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  GnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  GnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  GnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  GnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabCopy(argument: _xensim_hypervisor_v1_GnttabCopyRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  
  GnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  GnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  GnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  GnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  gnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  gnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  gnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  gnttabEndForeignAccess(argument: _xensim_hypervisor_v1_GnttabEndAccessRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabEndAccessReply__Output>): grpc.ClientUnaryCall;
  
  GnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  GnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  GnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  GnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  gnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  gnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  gnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  gnttabGrantAccess(argument: _xensim_hypervisor_v1_GnttabGrantAccessRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  GnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  GnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  GnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  GnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  gnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  gnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  gnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  gnttabMapGrantRef(argument: _xensim_hypervisor_v1_GnttabMapRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabMapReply__Output>): grpc.ClientUnaryCall;
  
  GnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  GnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  GnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  GnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  gnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  gnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  gnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  gnttabQuerySize(argument: _xensim_hypervisor_v1_DomainRef, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabQuerySizeReply__Output>): grpc.ClientUnaryCall;
  
  GnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  GnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  GnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  GnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  gnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  gnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  gnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  gnttabSetupTable(argument: _xensim_hypervisor_v1_GnttabSetupTableRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabSetupTableReply__Output>): grpc.ClientUnaryCall;
  
  GnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  GnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  GnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  GnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  gnttabUnmapGrantRef(argument: _xensim_hypervisor_v1_GnttabUnmapRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_GnttabStatusReply__Output>): grpc.ClientUnaryCall;
  
  HvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  HvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  HvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  HvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  hvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  hvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  hvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  hvmParamGet(argument: _xensim_hypervisor_v1_HvmParamRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_HvmParamReply__Output>): grpc.ClientUnaryCall;
  
  HvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  HvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  HvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  HvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  hvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  hvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  hvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  hvmParamSet(argument: _xensim_hypervisor_v1_HvmParamRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_RcReply__Output>): grpc.ClientUnaryCall;
  
  MemoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  MemoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  MemoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  MemoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryGfnToFrame(argument: _xensim_hypervisor_v1_GfnToFrameRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  
  MemoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  MemoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  MemoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  MemoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  memoryPopulatePhysmap(argument: _xensim_hypervisor_v1_PopulatePhysmapRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_FramesReply__Output>): grpc.ClientUnaryCall;
  
}

export interface HypervisorHandlers extends grpc.UntypedServiceImplementation {
  DomainCreate: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainCreateRequest__Output, _xensim_hypervisor_v1_DomainCreateReply>;
  
  DomainDestroy: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply>;
  
  DomainInfo: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_DomainInfoReply>;
  
  DomainList: grpc.handleUnaryCall<_xensim_hypervisor_v1_CallerRef__Output, _xensim_hypervisor_v1_DomainListReply>;
  
  DomainPause: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply>;
  
  DomainResume: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply>;
  
  DomainShutdown: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainShutdownRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  DomainSoftReset: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply>;
  
  DomainUnpause: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply>;
  
  EvtchnAllocUnbound: grpc.handleUnaryCall<_xensim_hypervisor_v1_EvtchnAllocUnboundRequest__Output, _xensim_hypervisor_v1_PortReply>;
  
  EvtchnBindInterdomain: grpc.handleUnaryCall<_xensim_hypervisor_v1_EvtchnBindInterdomainRequest__Output, _xensim_hypervisor_v1_PortReply>;
  
  EvtchnBindIpi: grpc.handleUnaryCall<_xensim_hypervisor_v1_EvtchnBindIpiRequest__Output, _xensim_hypervisor_v1_PortReply>;
  
  EvtchnBindVcpu: grpc.handleUnaryCall<_xensim_hypervisor_v1_EvtchnBindVcpuRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  EvtchnBindVirq: grpc.handleUnaryCall<_xensim_hypervisor_v1_EvtchnBindVirqRequest__Output, _xensim_hypervisor_v1_PortReply>;
  
  EvtchnClose: grpc.handleUnaryCall<_xensim_hypervisor_v1_PortRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  EvtchnReset: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply>;
  
  EvtchnSend: grpc.handleUnaryCall<_xensim_hypervisor_v1_PortRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  EvtchnStatus: grpc.handleUnaryCall<_xensim_hypervisor_v1_EvtchnStatusRequest__Output, _xensim_hypervisor_v1_EvtchnStatusReply>;
  
  EvtchnUnmask: grpc.handleUnaryCall<_xensim_hypervisor_v1_PortRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  GnttabCopy: grpc.handleUnaryCall<_xensim_hypervisor_v1_GnttabCopyRequest__Output, _xensim_hypervisor_v1_GnttabStatusReply>;
  
  GnttabEndForeignAccess: grpc.handleUnaryCall<_xensim_hypervisor_v1_GnttabEndAccessRequest__Output, _xensim_hypervisor_v1_GnttabEndAccessReply>;
  
  GnttabGrantAccess: grpc.handleUnaryCall<_xensim_hypervisor_v1_GnttabGrantAccessRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  GnttabMapGrantRef: grpc.handleUnaryCall<_xensim_hypervisor_v1_GnttabMapRequest__Output, _xensim_hypervisor_v1_GnttabMapReply>;
  
  GnttabQuerySize: grpc.handleUnaryCall<_xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_GnttabQuerySizeReply>;
  
  GnttabSetupTable: grpc.handleUnaryCall<_xensim_hypervisor_v1_GnttabSetupTableRequest__Output, _xensim_hypervisor_v1_GnttabSetupTableReply>;
  
  GnttabUnmapGrantRef: grpc.handleUnaryCall<_xensim_hypervisor_v1_GnttabUnmapRequest__Output, _xensim_hypervisor_v1_GnttabStatusReply>;
  
  HvmParamGet: grpc.handleUnaryCall<_xensim_hypervisor_v1_HvmParamRequest__Output, _xensim_hypervisor_v1_HvmParamReply>;
  
  HvmParamSet: grpc.handleUnaryCall<_xensim_hypervisor_v1_HvmParamRequest__Output, _xensim_hypervisor_v1_RcReply>;
  
  MemoryGfnToFrame: grpc.handleUnaryCall<_xensim_hypervisor_v1_GfnToFrameRequest__Output, _xensim_hypervisor_v1_FramesReply>;
  
  MemoryPopulatePhysmap: grpc.handleUnaryCall<_xensim_hypervisor_v1_PopulatePhysmapRequest__Output, _xensim_hypervisor_v1_FramesReply>;
  
}

export interface HypervisorDefinition extends grpc.ServiceDefinition {
  DomainCreate: MethodDefinition<_xensim_hypervisor_v1_DomainCreateRequest, _xensim_hypervisor_v1_DomainCreateReply, _xensim_hypervisor_v1_DomainCreateRequest__Output, _xensim_hypervisor_v1_DomainCreateReply__Output>
  DomainDestroy: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply__Output>
  DomainInfo: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_DomainInfoReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_DomainInfoReply__Output>
  DomainList: MethodDefinition<_xensim_hypervisor_v1_CallerRef, _xensim_hypervisor_v1_DomainListReply, _xensim_hypervisor_v1_CallerRef__Output, _xensim_hypervisor_v1_DomainListReply__Output>
  DomainPause: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply__Output>
  DomainResume: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply__Output>
  DomainShutdown: MethodDefinition<_xensim_hypervisor_v1_DomainShutdownRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainShutdownRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  DomainSoftReset: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply__Output>
  DomainUnpause: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply__Output>
  EvtchnAllocUnbound: MethodDefinition<_xensim_hypervisor_v1_EvtchnAllocUnboundRequest, _xensim_hypervisor_v1_PortReply, _xensim_hypervisor_v1_EvtchnAllocUnboundRequest__Output, _xensim_hypervisor_v1_PortReply__Output>
  EvtchnBindInterdomain: MethodDefinition<_xensim_hypervisor_v1_EvtchnBindInterdomainRequest, _xensim_hypervisor_v1_PortReply, _xensim_hypervisor_v1_EvtchnBindInterdomainRequest__Output, _xensim_hypervisor_v1_PortReply__Output>
  EvtchnBindIpi: MethodDefinition<_xensim_hypervisor_v1_EvtchnBindIpiRequest, _xensim_hypervisor_v1_PortReply, _xensim_hypervisor_v1_EvtchnBindIpiRequest__Output, _xensim_hypervisor_v1_PortReply__Output>
  EvtchnBindVcpu: MethodDefinition<_xensim_hypervisor_v1_EvtchnBindVcpuRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_EvtchnBindVcpuRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  EvtchnBindVirq: MethodDefinition<_xensim_hypervisor_v1_EvtchnBindVirqRequest, _xensim_hypervisor_v1_PortReply, _xensim_hypervisor_v1_EvtchnBindVirqRequest__Output, _xensim_hypervisor_v1_PortReply__Output>
  EvtchnClose: MethodDefinition<_xensim_hypervisor_v1_PortRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_PortRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  EvtchnReset: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_RcReply__Output>
  EvtchnSend: MethodDefinition<_xensim_hypervisor_v1_PortRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_PortRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  EvtchnStatus: MethodDefinition<_xensim_hypervisor_v1_EvtchnStatusRequest, _xensim_hypervisor_v1_EvtchnStatusReply, _xensim_hypervisor_v1_EvtchnStatusRequest__Output, _xensim_hypervisor_v1_EvtchnStatusReply__Output>
  EvtchnUnmask: MethodDefinition<_xensim_hypervisor_v1_PortRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_PortRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  GnttabCopy: MethodDefinition<_xensim_hypervisor_v1_GnttabCopyRequest, _xensim_hypervisor_v1_GnttabStatusReply, _xensim_hypervisor_v1_GnttabCopyRequest__Output, _xensim_hypervisor_v1_GnttabStatusReply__Output>
  GnttabEndForeignAccess: MethodDefinition<_xensim_hypervisor_v1_GnttabEndAccessRequest, _xensim_hypervisor_v1_GnttabEndAccessReply, _xensim_hypervisor_v1_GnttabEndAccessRequest__Output, _xensim_hypervisor_v1_GnttabEndAccessReply__Output>
  GnttabGrantAccess: MethodDefinition<_xensim_hypervisor_v1_GnttabGrantAccessRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_GnttabGrantAccessRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  GnttabMapGrantRef: MethodDefinition<_xensim_hypervisor_v1_GnttabMapRequest, _xensim_hypervisor_v1_GnttabMapReply, _xensim_hypervisor_v1_GnttabMapRequest__Output, _xensim_hypervisor_v1_GnttabMapReply__Output>
  GnttabQuerySize: MethodDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_GnttabQuerySizeReply, _xensim_hypervisor_v1_DomainRef__Output, _xensim_hypervisor_v1_GnttabQuerySizeReply__Output>
  GnttabSetupTable: MethodDefinition<_xensim_hypervisor_v1_GnttabSetupTableRequest, _xensim_hypervisor_v1_GnttabSetupTableReply, _xensim_hypervisor_v1_GnttabSetupTableRequest__Output, _xensim_hypervisor_v1_GnttabSetupTableReply__Output>
  GnttabUnmapGrantRef: MethodDefinition<_xensim_hypervisor_v1_GnttabUnmapRequest, _xensim_hypervisor_v1_GnttabStatusReply, _xensim_hypervisor_v1_GnttabUnmapRequest__Output, _xensim_hypervisor_v1_GnttabStatusReply__Output>
  HvmParamGet: MethodDefinition<_xensim_hypervisor_v1_HvmParamRequest, _xensim_hypervisor_v1_HvmParamReply, _xensim_hypervisor_v1_HvmParamRequest__Output, _xensim_hypervisor_v1_HvmParamReply__Output>
  HvmParamSet: MethodDefinition<_xensim_hypervisor_v1_HvmParamRequest, _xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_HvmParamRequest__Output, _xensim_hypervisor_v1_RcReply__Output>
  MemoryGfnToFrame: MethodDefinition<_xensim_hypervisor_v1_GfnToFrameRequest, _xensim_hypervisor_v1_FramesReply, _xensim_hypervisor_v1_GfnToFrameRequest__Output, _xensim_hypervisor_v1_FramesReply__Output>
  MemoryPopulatePhysmap: MethodDefinition<_xensim_hypervisor_v1_PopulatePhysmapRequest, _xensim_hypervisor_v1_FramesReply, _xensim_hypervisor_v1_PopulatePhysmapRequest__Output, _xensim_hypervisor_v1_FramesReply__Output>
}
