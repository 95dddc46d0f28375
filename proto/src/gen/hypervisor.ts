import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CallerRef as _xensim_hypervisor_v1_CallerRef, CallerRef__Output as _xensim_hypervisor_v1_CallerRef__Output } from './xensim/hypervisor/v1/CallerRef.js';
import type { DomainCreateReply as _xensim_hypervisor_v1_DomainCreateReply, DomainCreateReply__Output as _xensim_hypervisor_v1_DomainCreateReply__Output } from './xensim/hypervisor/v1/DomainCreateReply.js';
import type { DomainCreateRequest as _xensim_hypervisor_v1_DomainCreateRequest, DomainCreateRequest__Output as _xensim_hypervisor_v1_DomainCreateRequest__Output } from './xensim/hypervisor/v1/DomainCreateRequest.js';
import type { DomainExc as _xensim_hypervisor_v1_DomainExc, DomainExc__Output as _xensim_hypervisor_v1_DomainExc__Output } from './xensim/hypervisor/v1/DomainExc.js';
import type { DomainInfo as _xensim_hypervisor_v1_DomainInfo, DomainInfo__Output as _xensim_hypervisor_v1_DomainInfo__Output } from './xensim/hypervisor/v1/DomainInfo.js';
import type { DomainInfoReply as _xensim_hypervisor_v1_DomainInfoReply, DomainInfoReply__Output as _xensim_hypervisor_v1_DomainInfoReply__Output } from './xensim/hypervisor/v1/DomainInfoReply.js';
import type { DomainListReply as _xensim_hypervisor_v1_DomainListReply, DomainListReply__Output as _xensim_hypervisor_v1_DomainListReply__Output } from './xensim/hypervisor/v1/DomainListReply.js';
import type { DomainRef as _xensim_hypervisor_v1_DomainRef, DomainRef__Output as _xensim_hypervisor_v1_DomainRef__Output } from './xensim/hypervisor/v1/DomainRef.js';
import type { DomainShutdownRequest as _xensim_hypervisor_v1_DomainShutdownRequest, DomainShutdownRequest__Output as _xensim_hypervisor_v1_DomainShutdownRequest__Output } from './xensim/hypervisor/v1/DomainShutdownRequest.js';
import type { EvtchnAllocUnboundRequest as _xensim_hypervisor_v1_EvtchnAllocUnboundRequest, EvtchnAllocUnboundRequest__Output as _xensim_hypervisor_v1_EvtchnAllocUnboundRequest__Output } from './xensim/hypervisor/v1/EvtchnAllocUnboundRequest.js';
import type { EvtchnBindInterdomainRequest as _xensim_hypervisor_v1_EvtchnBindInterdomainRequest, EvtchnBindInterdomainRequest__Output as _xensim_hypervisor_v1_EvtchnBindInterdomainRequest__Output } from './xensim/hypervisor/v1/EvtchnBindInterdomainRequest.js';
import type { EvtchnBindIpiRequest as _xensim_hypervisor_v1_EvtchnBindIpiRequest, EvtchnBindIpiRequest__Output as _xensim_hypervisor_v1_EvtchnBindIpiRequest__Output } from './xensim/hypervisor/v1/EvtchnBindIpiRequest.js';
import type { EvtchnBindVcpuRequest as _xensim_hypervisor_v1_EvtchnBindVcpuRequest, EvtchnBindVcpuRequest__Output as _xensim_hypervisor_v1_EvtchnBindVcpuRequest__Output } from './xensim/hypervisor/v1/EvtchnBindVcpuRequest.js';
import type { EvtchnBindVirqRequest as _xensim_hypervisor_v1_EvtchnBindVirqRequest, EvtchnBindVirqRequest__Output as _xensim_hypervisor_v1_EvtchnBindVirqRequest__Output } from './xensim/hypervisor/v1/EvtchnBindVirqRequest.js';
import type { EvtchnStatusReply as _xensim_hypervisor_v1_EvtchnStatusReply, EvtchnStatusReply__Output as _xensim_hypervisor_v1_EvtchnStatusReply__Output } from './xensim/hypervisor/v1/EvtchnStatusReply.js';
import type { EvtchnStatusRequest as _xensim_hypervisor_v1_EvtchnStatusRequest, EvtchnStatusRequest__Output as _xensim_hypervisor_v1_EvtchnStatusRequest__Output } from './xensim/hypervisor/v1/EvtchnStatusRequest.js';
import type { FramesReply as _xensim_hypervisor_v1_FramesReply, FramesReply__Output as _xensim_hypervisor_v1_FramesReply__Output } from './xensim/hypervisor/v1/FramesReply.js';
import type { GfnToFrameRequest as _xensim_hypervisor_v1_GfnToFrameRequest, GfnToFrameRequest__Output as _xensim_hypervisor_v1_GfnToFrameRequest__Output } from './xensim/hypervisor/v1/GfnToFrameRequest.js';
import type { GnttabCopyOp as _xensim_hypervisor_v1_GnttabCopyOp, GnttabCopyOp__Output as _xensim_hypervisor_v1_GnttabCopyOp__Output } from './xensim/hypervisor/v1/GnttabCopyOp.js';
import type { GnttabCopyPtr as _xensim_hypervisor_v1_GnttabCopyPtr, GnttabCopyPtr__Output as _xensim_hypervisor_v1_GnttabCopyPtr__Output } from './xensim/hypervisor/v1/GnttabCopyPtr.js';
import type { GnttabCopyRequest as _xensim_hypervisor_v1_GnttabCopyRequest, GnttabCopyRequest__Output as _xensim_hypervisor_v1_GnttabCopyRequest__Output } from './xensim/hypervisor/v1/GnttabCopyRequest.js';
import type { GnttabEndAccessReply as _xensim_hypervisor_v1_GnttabEndAccessReply, GnttabEndAccessReply__Output as _xensim_hypervisor_v1_GnttabEndAccessReply__Output } from './xensim/hypervisor/v1/GnttabEndAccessReply.js';
import type { GnttabEndAccessRequest as _xensim_hypervisor_v1_GnttabEndAccessRequest, GnttabEndAccessRequest__Output as _xensim_hypervisor_v1_GnttabEndAccessRequest__Output } from './xensim/hypervisor/v1/GnttabEndAccessRequest.js';
import type { GnttabGrantAccessRequest as _xensim_hypervisor_v1_GnttabGrantAccessRequest, GnttabGrantAccessRequest__Output as _xensim_hypervisor_v1_GnttabGrantAccessRequest__Output } from './xensim/hypervisor/v1/GnttabGrantAccessRequest.js';
import type { GnttabMapOp as _xensim_hypervisor_v1_GnttabMapOp, GnttabMapOp__Output as _xensim_hypervisor_v1_GnttabMapOp__Output } from './xensim/hypervisor/v1/GnttabMapOp.js';
import type { GnttabMapReply as _xensim_hypervisor_v1_GnttabMapReply, GnttabMapReply__Output as _xensim_hypervisor_v1_GnttabMapReply__Output } from './xensim/hypervisor/v1/GnttabMapReply.js';
import type { GnttabMapRequest as _xensim_hypervisor_v1_GnttabMapRequest, GnttabMapRequest__Output as _xensim_hypervisor_v1_GnttabMapRequest__Output } from './xensim/hypervisor/v1/GnttabMapRequest.js';
import type { GnttabMapResult as _xensim_hypervisor_v1_GnttabMapResult, GnttabMapResult__Output as _xensim_hypervisor_v1_GnttabMapResult__Output } from './xensim/hypervisor/v1/GnttabMapResult.js';
import type { GnttabQuerySizeReply as _xensim_hypervisor_v1_GnttabQuerySizeReply, GnttabQuerySizeReply__Output as _xensim_hypervisor_v1_GnttabQuerySizeReply__Output } from './xensim/hypervisor/v1/GnttabQuerySizeReply.js';
import type { GnttabSetupTableReply as _xensim_hypervisor_v1_GnttabSetupTableReply, GnttabSetupTableReply__Output as _xensim_hypervisor_v1_GnttabSetupTableReply__Output } from './xensim/hypervisor/v1/GnttabSetupTableReply.js';
import type { GnttabSetupTableRequest as _xensim_hypervisor_v1_GnttabSetupTableRequest, GnttabSetupTableRequest__Output as _xensim_hypervisor_v1_GnttabSetupTableRequest__Output } from './xensim/hypervisor/v1/GnttabSetupTableRequest.js';
import type { GnttabStatusReply as _xensim_hypervisor_v1_GnttabStatusReply, GnttabStatusReply__Output as _xensim_hypervisor_v1_GnttabStatusReply__Output } from './xensim/hypervisor/v1/GnttabStatusReply.js';
import type { GnttabUnmapOp as _xensim_hypervisor_v1_GnttabUnmapOp, GnttabUnmapOp__Output as _xensim_hypervisor_v1_GnttabUnmapOp__Output } from './xensim/hypervisor/v1/GnttabUnmapOp.js';
import type { GnttabUnmapRequest as _xensim_hypervisor_v1_GnttabUnmapRequest, GnttabUnmapRequest__Output as _xensim_hypervisor_v1_GnttabUnmapRequest__Output } from './xensim/hypervisor/v1/GnttabUnmapRequest.js';
import type { HvmParam as _xensim_hypervisor_v1_HvmParam, HvmParam__Output as _xensim_hypervisor_v1_HvmParam__Output } from './xensim/hypervisor/v1/HvmParam.js';
import type { HvmParamReply as _xensim_hypervisor_v1_HvmParamReply, HvmParamReply__Output as _xensim_hypervisor_v1_HvmParamReply__Output } from './xensim/hypervisor/v1/HvmParamReply.js';
import type { HvmParamRequest as _xensim_hypervisor_v1_HvmParamRequest, HvmParamRequest__Output as _xensim_hypervisor_v1_HvmParamRequest__Output } from './xensim/hypervisor/v1/HvmParamRequest.js';
import type { HypervisorClient as _xensim_hypervisor_v1_HypervisorClient, HypervisorDefinition as _xensim_hypervisor_v1_HypervisorDefinition } from './xensim/hypervisor/v1/Hypervisor.js';
import type { PopulatePhysmapRequest as _xensim_hypervisor_v1_PopulatePhysmapRequest, PopulatePhysmapRequest__Output as _xensim_hypervisor_v1_PopulatePhysmapRequest__Output } from './xensim/hypervisor/v1/PopulatePhysmapRequest.js';
import type { PortReply as _xensim_hypervisor_v1_PortReply, PortReply__Output as _xensim_hypervisor_v1_PortReply__Output } from './xensim/hypervisor/v1/PortReply.js';
import type { PortRequest as _xensim_hypervisor_v1_PortRequest, PortRequest__Output as _xensim_hypervisor_v1_PortRequest__Output } from './xensim/hypervisor/v1/PortRequest.js';
import type { RcReply as _xensim_hypervisor_v1_RcReply, RcReply__Output as _xensim_hypervisor_v1_RcReply__Output } from './xensim/hypervisor/v1/RcReply.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    hypervisor: {
      v1: {
        CallerRef: MessageTypeDefinition<_xensim_hypervisor_v1_CallerRef, _xensim_hypervisor_v1_CallerRef__Output>
        DomainCreateReply: MessageTypeDefinition<_xensim_hypervisor_v1_DomainCreateReply, _xensim_hypervisor_v1_DomainCreateReply__Output>
        DomainCreateRequest: MessageTypeDefinition<_xensim_hypervisor_v1_DomainCreateRequest, _xensim_hypervisor_v1_DomainCreateRequest__Output>
        DomainExc: MessageTypeDefinition<_xensim_hypervisor_v1_DomainExc, _xensim_hypervisor_v1_DomainExc__Output>
        DomainInfo: MessageTypeDefinition<_xensim_hypervisor_v1_DomainInfo, _xensim_hypervisor_v1_DomainInfo__Output>
        DomainInfoReply: MessageTypeDefinition<_xensim_hypervisor_v1_DomainInfoReply, _xensim_hypervisor_v1_DomainInfoReply__Output>
        DomainListReply: MessageTypeDefinition<_xensim_hypervisor_v1_DomainListReply, _xensim_hypervisor_v1_DomainListReply__Output>
        DomainRef: MessageTypeDefinition<_xensim_hypervisor_v1_DomainRef, _xensim_hypervisor_v1_DomainRef__Output>
        DomainShutdownRequest: MessageTypeDefinition<_xensim_hypervisor_v1_DomainShutdownRequest, _xensim_hypervisor_v1_DomainShutdownRequest__Output>
        DomainState: EnumTypeDefinition
        EvtchnAllocUnboundRequest: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnAllocUnboundRequest, _xensim_hypervisor_v1_EvtchnAllocUnboundRequest__Output>
        EvtchnBindInterdomainRequest: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnBindInterdomainRequest, _xensim_hypervisor_v1_EvtchnBindInterdomainRequest__Output>
        EvtchnBindIpiRequest: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnBindIpiRequest, _xensim_hypervisor_v1_EvtchnBindIpiRequest__Output>
        EvtchnBindVcpuRequest: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnBindVcpuRequest, _xensim_hypervisor_v1_EvtchnBindVcpuRequest__Output>
        EvtchnBindVirqRequest: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnBindVirqRequest, _xensim_hypervisor_v1_EvtchnBindVirqRequest__Output>
        EvtchnStatusReply: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnStatusReply, _xensim_hypervisor_v1_EvtchnStatusReply__Output>
        EvtchnStatusRequest: MessageTypeDefinition<_xensim_hypervisor_v1_EvtchnStatusRequest, _xensim_hypervisor_v1_EvtchnStatusRequest__Output>
        FramesReply: MessageTypeDefinition<_xensim_hypervisor_v1_FramesReply, _xensim_hypervisor_v1_FramesReply__Output>
        GfnToFrameRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GfnToFrameRequest, _xensim_hypervisor_v1_GfnToFrameRequest__Output>
        GnttabCopyOp: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabCopyOp, _xensim_hypervisor_v1_GnttabCopyOp__Output>
        GnttabCopyPtr: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabCopyPtr, _xensim_hypervisor_v1_GnttabCopyPtr__Output>
        GnttabCopyRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabCopyRequest, _xensim_hypervisor_v1_GnttabCopyRequest__Output>
        GnttabEndAccessReply: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabEndAccessReply, _xensim_hypervisor_v1_GnttabEndAccessReply__Output>
        GnttabEndAccessRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabEndAccessRequest, _xensim_hypervisor_v1_GnttabEndAccessRequest__Output>
        GnttabGrantAccessRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabGrantAccessRequest, _xensim_hypervisor_v1_GnttabGrantAccessRequest__Output>
        GnttabMapOp: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabMapOp, _xensim_hypervisor_v1_GnttabMapOp__Output>
        GnttabMapReply: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabMapReply, _xensim_hypervisor_v1_GnttabMapReply__Output>
        GnttabMapRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabMapRequest, _xensim_hypervisor_v1_GnttabMapRequest__Output>
        GnttabMapResult: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabMapResult, _xensim_hypervisor_v1_GnttabMapResult__Output>
        GnttabQuerySizeReply: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabQuerySizeReply, _xensim_hypervisor_v1_GnttabQuerySizeReply__Output>
        GnttabSetupTableReply: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabSetupTableReply, _xensim_hypervisor_v1_GnttabSetupTableReply__Output>
        GnttabSetupTableRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabSetupTableRequest, _xensim_hypervisor_v1_GnttabSetupTableRequest__Output>
        GnttabStatusReply: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabStatusReply, _xensim_hypervisor_v1_GnttabStatusReply__Output>
        GnttabUnmapOp: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabUnmapOp, _xensim_hypervisor_v1_GnttabUnmapOp__Output>
        GnttabUnmapRequest: MessageTypeDefinition<_xensim_hypervisor_v1_GnttabUnmapRequest, _xensim_hypervisor_v1_GnttabUnmapRequest__Output>
        HvmParam: MessageTypeDefinition<_xensim_hypervisor_v1_HvmParam, _xensim_hypervisor_v1_HvmParam__Output>
        HvmParamReply: MessageTypeDefinition<_xensim_hypervisor_v1_HvmParamReply, _xensim_hypervisor_v1_HvmParamReply__Output>
        HvmParamRequest: MessageTypeDefinition<_xensim_hypervisor_v1_HvmParamRequest, _xensim_hypervisor_v1_HvmParamRequest__Output>
        Hypervisor: SubtypeConstructor<typeof grpc.Client, _xensim_hypervisor_v1_HypervisorClient> & { service: _xensim_hypervisor_v1_HypervisorDefinition }
        PopulatePhysmapRequest: MessageTypeDefinition<_xensim_hypervisor_v1_PopulatePhysmapRequest, _xensim_hypervisor_v1_PopulatePhysmapRequest__Output>
        PortReply: MessageTypeDefinition<_xensim_hypervisor_v1_PortReply, _xensim_hypervisor_v1_PortReply__Output>
        PortRequest: MessageTypeDefinition<_xensim_hypervisor_v1_PortRequest, _xensim_hypervisor_v1_PortRequest__Output>
        RcReply: MessageTypeDefinition<_xensim_hypervisor_v1_RcReply, _xensim_hypervisor_v1_RcReply__Output>
      }
    }
  }
}

