import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AcquireResourceReply as _xensim_hypervisor_v1_AcquireResourceReply, AcquireResourceReply__Output as _xensim_hypervisor_v1_AcquireResourceReply__Output } from './xensim/hypervisor/v1/AcquireResourceReply.js';
import type { AcquireResourceRequest as _xensim_hypervisor_v1_AcquireResourceRequest, AcquireResourceRequest__Output as _xensim_hypervisor_v1_AcquireResourceRequest__Output } from './xensim/hypervisor/v1/AcquireResourceRequest.js';
import type { DmOpClient as _xensim_hypervisor_v1_DmOpClient, DmOpDefinition as _xensim_hypervisor_v1_DmOpDefinition } from './xensim/hypervisor/v1/DmOp.js';
import type { DmOpRcReply as _xensim_hypervisor_v1_DmOpRcReply, DmOpRcReply__Output as _xensim_hypervisor_v1_DmOpRcReply__Output } from './xensim/hypervisor/v1/DmOpRcReply.js';
import type { DmOpReply as _xensim_hypervisor_v1_DmOpReply, DmOpReply__Output as _xensim_hypervisor_v1_DmOpReply__Output } from './xensim/hypervisor/v1/DmOpReply.js';
import type { DmOpRequest as _xensim_hypervisor_v1_DmOpRequest, DmOpRequest__Output as _xensim_hypervisor_v1_DmOpRequest__Output } from './xensim/hypervisor/v1/DmOpRequest.js';
import type { IoreqRange as _xensim_hypervisor_v1_IoreqRange, IoreqRange__Output as _xensim_hypervisor_v1_IoreqRange__Output } from './xensim/hypervisor/v1/IoreqRange.js';
import type { IoreqServerInfo as _xensim_hypervisor_v1_IoreqServerInfo, IoreqServerInfo__Output as _xensim_hypervisor_v1_IoreqServerInfo__Output } from './xensim/hypervisor/v1/IoreqServerInfo.js';
import type { IoreqServerListReply as _xensim_hypervisor_v1_IoreqServerListReply, IoreqServerListReply__Output as _xensim_hypervisor_v1_IoreqServerListReply__Output } from './xensim/hypervisor/v1/IoreqServerListReply.js';
import type { IoreqServerListRequest as _xensim_hypervisor_v1_IoreqServerListRequest, IoreqServerListRequest__Output as _xensim_hypervisor_v1_IoreqServerListRequest__Output } from './xensim/hypervisor/v1/IoreqServerListRequest.js';
import type { ReleaseResourceRequest as _xensim_hypervisor_v1_ReleaseResourceRequest, ReleaseResourceRequest__Output as _xensim_hypervisor_v1_ReleaseResourceRequest__Output } from './xensim/hypervisor/v1/ReleaseResourceRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    hypervisor: {
      v1: {
        AcquireResourceReply: MessageTypeDefinition<_xensim_hypervisor_v1_AcquireResourceReply, _xensim_hypervisor_v1_AcquireResourceReply__Output>
        AcquireResourceRequest: MessageTypeDefinition<_xensim_hypervisor_v1_AcquireResourceRequest, _xensim_hypervisor_v1_AcquireResourceRequest__Output>
        DmOp: SubtypeConstructor<typeof grpc.Client, _xensim_hypervisor_v1_DmOpClient> & { service: _xensim_hypervisor_v1_DmOpDefinition }
        DmOpRcReply: MessageTypeDefinition<_xensim_hypervisor_v1_DmOpRcReply, _xensim_hypervisor_v1_DmOpRcReply__Output>
        DmOpReply: MessageTypeDefinition<_xensim_hypervisor_v1_DmOpReply, _xensim_hypervisor_v1_DmOpReply__Output>
        DmOpRequest: MessageTypeDefinition<_xensim_hypervisor_v1_DmOpRequest, _xensim_hypervisor_v1_DmOpRequest__Output>
        IoreqRange: MessageTypeDefinition<_xensim_hypervisor_v1_IoreqRange, _xensim_hypervisor_v1_IoreqRange__Output>
        IoreqServerInfo: MessageTypeDefinition<_xensim_hypervisor_v1_IoreqServerInfo, _xensim_hypervisor_v1_IoreqServerInfo__Output>
        IoreqServerListReply: MessageTypeDefinition<_xensim_hypervisor_v1_IoreqServerListReply, _xensim_hypervisor_v1_IoreqServerListReply__Output>
        IoreqServerListRequest: MessageTypeDefinition<_xensim_hypervisor_v1_IoreqServerListRequest, _xensim_hypervisor_v1_IoreqServerListRequest__Output>
        ReleaseResourceRequest: MessageTypeDefinition<_xensim_hypervisor_v1_ReleaseResourceRequest, _xensim_hypervisor_v1_ReleaseResourceRequest__Output>
      }
    }
  }
}

