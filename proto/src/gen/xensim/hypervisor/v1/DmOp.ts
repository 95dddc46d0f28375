// Original file: proto/xensim/hypervisor/v1/dmop.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AcquireResourceReply as _xensim_hypervisor_v1_AcquireResourceReply, AcquireResourceReply__Output as _xensim_hypervisor_v1_AcquireResourceReply__Output } from '../../../xensim/hypervisor/v1/AcquireResourceReply.js';
import type { AcquireResourceRequest as _xensim_hypervisor_v1_AcquireResourceRequest, AcquireResourceRequest__Output as _xensim_hypervisor_v1_AcquireResourceRequest__Output } from '../../../xensim/hypervisor/v1/AcquireResourceRequest.js';
import type { DmOpRcReply as _xensim_hypervisor_v1_DmOpRcReply, DmOpRcReply__Output as _xensim_hypervisor_v1_DmOpRcReply__Output } from '../../../xensim/hypervisor/v1/DmOpRcReply.js';
import type { DmOpReply as _xensim_hypervisor_v1_DmOpReply, DmOpReply__Output as _xensim_hypervisor_v1_DmOpReply__Output } from '../../../xensim/hypervisor/v1/DmOpReply.js';
import type { DmOpRequest as _xensim_hypervisor_v1_DmOpRequest, DmOpRequest__Output as _xensim_hypervisor_v1_DmOpRequest__Output } from '../../../xensim/hypervisor/v1/DmOpRequest.js';
import type { IoreqServerListReply as _xensim_hypervisor_v1_IoreqServerListReply, IoreqServerListReply__Output as _xensim_hypervisor_v1_IoreqServerListReply__Output } from '../../../xensim/hypervisor/v1/IoreqServerListReply.js';
import type { IoreqServerListRequest as _xensim_hypervisor_v1_IoreqServerListRequest, IoreqServerListRequest__Output as _xensim_hypervisor_v1_IoreqServerListRequest__Output } from '../../../xensim/hypervisor/v1/IoreqServerListRequest.js';
import type { ReleaseResourceRequest as _xensim_hypervisor_v1_ReleaseResourceRequest, ReleaseResourceRequest__Output as _xensim_hypervisor_v1_ReleaseResourceRequest__Output } from '../../../xensim/hypervisor/v1/ReleaseResourceRequest.js';

export interface DmOpClient extends grpc.Client {
  AcquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  AcquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  AcquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  AcquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  acquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  acquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  acquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  acquireResource(argument: _xensim_hypervisor_v1_AcquireResourceRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_AcquireResourceReply__Output>): grpc.ClientUnaryCall;
  
  DmOp(argument: _xensim_hypervisor_v1_DmOpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  DmOp(argument: _xensim_hypervisor_v1_DmOpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  DmOp(argument: _xensim_hypervisor_v1_DmOpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  DmOp(argument: _xensim_hypervisor_v1_DmOpRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  dmOp(argument: _xensim_hypervisor_v1_DmOpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  dmOp(argument: _xensim_hypervisor_v1_DmOpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  dmOp(argument: _xensim_hypervisor_v1_DmOpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  dmOp(argument: _xensim_hypervisor_v1_DmOpRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpReply__Output>): grpc.ClientUnaryCall;
  
  IoreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  IoreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  IoreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  IoreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  ioreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  ioreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  ioreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  ioreqServerList(argument: _xensim_hypervisor_v1_IoreqServerListRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_IoreqServerListReply__Output>): grpc.ClientUnaryCall;
  
  ReleaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  ReleaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  ReleaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  ReleaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  releaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  releaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  releaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  releaseResource(argument: _xensim_hypervisor_v1_ReleaseResourceRequest, callback: grpc.requestCallback<_xensim_hypervisor_v1_DmOpRcReply__Output>): grpc.ClientUnaryCall;
  
}

export interface DmOpHandlers extends grpc.UntypedServiceImplementation {
  AcquireResource: grpc.handleUnaryCall<_xensim_hypervisor_v1_AcquireResourceRequest__Output, _xensim_hypervisor_v1_AcquireResourceReply>;
  
  DmOp: grpc.handleUnaryCall<_xensim_hypervisor_v1_DmOpRequest__Output, _xensim_hypervisor_v1_DmOpReply>;
  
  IoreqServerList: grpc.handleUnaryCall<_xensim_hypervisor_v1_IoreqServerListRequest__Output, _xensim_hypervisor_v1_IoreqServerListReply>;
  
  ReleaseResource: grpc.handleUnaryCall<_xensim_hypervisor_v1_ReleaseResourceRequest__Output, _xensim_hypervisor_v1_DmOpRcReply>;
  
}

export interface DmOpDefinition extends grpc.ServiceDefinition {
  AcquireResource: MethodDefinition<_xensim_hypervisor_v1_AcquireResourceRequest, _xensim_hypervisor_v1_AcquireResourceReply, _xensim_hypervisor_v1_AcquireResourceRequest__Output, _xensim_hypervisor_v1_AcquireResourceReply__Output>
  DmOp: MethodDefinition<_xensim_hypervisor_v1_DmOpRequest, _xensim_hypervisor_v1_DmOpReply, _xensim_hypervisor_v1_DmOpRequest__Output, _xensim_hypervisor_v1_DmOpReply__Output>
  IoreqServerList: MethodDefinition<_xensim_hypervisor_v1_IoreqServerListRequest, _xensim_hypervisor_v1_IoreqServerListReply, _xensim_hypervisor_v1_IoreqServerListRequest__Output, _xensim_hypervisor_v1_IoreqServerListReply__Output>
  ReleaseResource: MethodDefinition<_xensim_hypervisor_v1_ReleaseResourceRequest, _xensim_hypervisor_v1_DmOpRcReply, _xensim_hypervisor_v1_ReleaseResourceRequest__Output, _xensim_hypervisor_v1_DmOpRcReply__Output>
}
