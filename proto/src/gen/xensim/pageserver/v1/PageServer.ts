// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AllocFramesReply as _xensim_pageserver_v1_AllocFramesReply, AllocFramesReply__Output as _xensim_pageserver_v1_AllocFramesReply__Output } from '../../../xensim/pageserver/v1/AllocFramesReply.js';
import type { AllocFramesRequest as _xensim_pageserver_v1_AllocFramesRequest, AllocFramesRequest__Output as _xensim_pageserver_v1_AllocFramesRequest__Output } from '../../../xensim/pageserver/v1/AllocFramesRequest.js';
import type { FenceReply as _xensim_pageserver_v1_FenceReply, FenceReply__Output as _xensim_pageserver_v1_FenceReply__Output } from '../../../xensim/pageserver/v1/FenceReply.js';
import type { FenceRequest as _xensim_pageserver_v1_FenceRequest, FenceRequest__Output as _xensim_pageserver_v1_FenceRequest__Output } from '../../../xensim/pageserver/v1/FenceRequest.js';
import type { FenceStatus as _xensim_pageserver_v1_FenceStatus, FenceStatus__Output as _xensim_pageserver_v1_FenceStatus__Output } from '../../../xensim/pageserver/v1/FenceStatus.js';
import type { FetchBatchesReply as _xensim_pageserver_v1_FetchBatchesReply, FetchBatchesReply__Output as _xensim_pageserver_v1_FetchBatchesReply__Output } from '../../../xensim/pageserver/v1/FetchBatchesReply.js';
import type { FetchBatchesRequest as _xensim_pageserver_v1_FetchBatchesRequest, FetchBatchesRequest__Output as _xensim_pageserver_v1_FetchBatchesRequest__Output } from '../../../xensim/pageserver/v1/FetchBatchesRequest.js';
import type { ImportFramesReply as _xensim_pageserver_v1_ImportFramesReply, ImportFramesReply__Output as _xensim_pageserver_v1_ImportFramesReply__Output } from '../../../xensim/pageserver/v1/ImportFramesReply.js';
import type { ImportFramesRequest as _xensim_pageserver_v1_ImportFramesRequest, ImportFramesRequest__Output as _xensim_pageserver_v1_ImportFramesRequest__Output } from '../../../xensim/pageserver/v1/ImportFramesRequest.js';
import type { PublishRequest as _xensim_pageserver_v1_PublishRequest, PublishRequest__Output as _xensim_pageserver_v1_PublishRequest__Output } from '../../../xensim/pageserver/v1/PublishRequest.js';
import type { ReadFrameReply as _xensim_pageserver_v1_ReadFrameReply, ReadFrameReply__Output as _xensim_pageserver_v1_ReadFrameReply__Output } from '../../../xensim/pageserver/v1/ReadFrameReply.js';
import type { ReadFrameRequest as _xensim_pageserver_v1_ReadFrameRequest, ReadFrameRequest__Output as _xensim_pageserver_v1_ReadFrameRequest__Output } from '../../../xensim/pageserver/v1/ReadFrameRequest.js';
import type { ReleaseFramesRequest as _xensim_pageserver_v1_ReleaseFramesRequest, ReleaseFramesRequest__Output as _xensim_pageserver_v1_ReleaseFramesRequest__Output } from '../../../xensim/pageserver/v1/ReleaseFramesRequest.js';
import type { ReplicateFramesRequest as _xensim_pageserver_v1_ReplicateFramesRequest, ReplicateFramesRequest__Output as _xensim_pageserver_v1_ReplicateFramesRequest__Output } from '../../../xensim/pageserver/v1/ReplicateFramesRequest.js';
import type { WriteFramesRequest as _xensim_pageserver_v1_WriteFramesRequest, WriteFramesRequest__Output as _xensim_pageserver_v1_WriteFramesRequest__Output } from '../../../xensim/pageserver/v1/WriteFramesRequest.js';

export interface PageServerClient extends grpc.Client {
  AllocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  AllocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  AllocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  AllocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  allocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  allocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  allocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  allocFrames(argument: _xensim_pageserver_v1_AllocFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_AllocFramesReply__Output>): grpc.ClientUnaryCall;
  
  Fence(argument: _xensim_pageserver_v1_FenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  Fence(argument: _xensim_pageserver_v1_FenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  Fence(argument: _xensim_pageserver_v1_FenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  Fence(argument: _xensim_pageserver_v1_FenceRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  fence(argument: _xensim_pageserver_v1_FenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  fence(argument: _xensim_pageserver_v1_FenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  fence(argument: _xensim_pageserver_v1_FenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  fence(argument: _xensim_pageserver_v1_FenceRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceStatus__Output>): grpc.ClientUnaryCall;
  
  FetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  FetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  FetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  FetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  fetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  fetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  fetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  fetchBatches(argument: _xensim_pageserver_v1_FetchBatchesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FetchBatchesReply__Output>): grpc.ClientUnaryCall;
  
  ImportFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  ImportFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  ImportFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  ImportFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  importFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  importFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  importFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  importFrames(argument: _xensim_pageserver_v1_ImportFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_ImportFramesReply__Output>): grpc.ClientUnaryCall;
  
  Publish(argument: _xensim_pageserver_v1_PublishRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  Publish(argument: _xensim_pageserver_v1_PublishRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  Publish(argument: _xensim_pageserver_v1_PublishRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  Publish(argument: _xensim_pageserver_v1_PublishRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  publish(argument: _xensim_pageserver_v1_PublishRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  publish(argument: _xensim_pageserver_v1_PublishRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  publish(argument: _xensim_pageserver_v1_PublishRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  publish(argument: _xensim_pageserver_v1_PublishRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  
  ReleaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  ReleaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  ReleaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  ReleaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  releaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  releaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  releaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  releaseFrames(argument: _xensim_pageserver_v1_ReleaseFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  
  ReplicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  ReplicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  ReplicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  ReplicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  replicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  replicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  replicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  replicateFrames(argument: _xensim_pageserver_v1_ReplicateFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_FenceReply__Output>): grpc.ClientUnaryCall;
  
}

export interface PageServerHandlers extends grpc.UntypedServiceImplementation {
  AllocFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_AllocFramesRequest__Output, _xensim_pageserver_v1_AllocFramesReply>;
  
  Fence: grpc.handleUnaryCall<_xensim_pageserver_v1_FenceRequest__Output, _xensim_pageserver_v1_FenceStatus>;
  
  FetchBatches: grpc.handleUnaryCall<_xensim_pageserver_v1_FetchBatchesRequest__Output, _xensim_pageserver_v1_FetchBatchesReply>;
  
  ImportFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_ImportFramesRequest__Output, _xensim_pageserver_v1_ImportFramesReply>;
  
  Publish: grpc.handleUnaryCall<_xensim_pageserver_v1_PublishRequest__Output, _xensim_pageserver_v1_FenceReply>;
  
  ReadFrame: grpc.handleUnaryCall<_xensim_pageserver_v1_ReadFrameRequest__Output, _xensim_pageserver_v1_ReadFrameReply>;
  
  ReleaseFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_ReleaseFramesRequest__Output, _xensim_pageserver_v1_FenceReply>;
  
  ReplicateFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_ReplicateFramesRequest__Output, _xensim_pageserver_v1_FenceReply>;
  
  WriteFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_WriteFramesRequest__Output, _xensim_pageserver_v1_FenceReply>;
  
}

export interface PageServerDefinition extends grpc.ServiceDefinition {
  AllocFrames: MethodDefinition<_xensim_pageserver_v1_AllocFramesRequest, _xensim_pageserver_v1_AllocFramesReply, _xensim_pageserver_v1_AllocFramesRequest__Output, _xensim_pageserver_v1_AllocFramesReply__Output>
  Fence: MethodDefinition<_xensim_pageserver_v1_FenceRequest, _xensim_pageserver_v1_FenceStatus, _xensim_pageserver_v1_FenceRequest__Output, _xensim_pageserver_v1_FenceStatus__Output>
  FetchBatches: MethodDefinition<_xensim_pageserver_v1_FetchBatchesRequest, _xensim_pageserver_v1_FetchBatchesReply, _xensim_pageserver_v1_FetchBatchesRequest__Output, _xensim_pageserver_v1_FetchBatchesReply__Output>
  ImportFrames: MethodDefinition<_xensim_pageserver_v1_ImportFramesRequest, _xensim_pageserver_v1_ImportFramesReply, _xensim_pageserver_v1_ImportFramesRequest__Output, _xensim_pageserver_v1_ImportFramesReply__Output>
  Publish: MethodDefinition<_xensim_pageserver_v1_PublishRequest, _xensim_pageserver_v1_FenceReply, _xensim_pageserver_v1_PublishRequest__Output, _xensim_pageserver_v1_FenceReply__Output>
  ReadFrame: MethodDefinition<_xensim_pageserver_v1_ReadFrameRequest, _xensim_pageserver_v1_ReadFrameReply, _xensim_pageserver_v1_ReadFrameRequest__Output, _xensim_pageserver_v1_ReadFrameReply__Output>
  ReleaseFrames: MethodDefinition<_xensim_pageserver_v1_ReleaseFramesRequest, _xensim_pageserver_v1_FenceReply, _xensim_pageserver_v1_ReleaseFramesRequest__Output, _xensim_pageserver_v1_FenceReply__Output>
  ReplicateFrames: MethodDefinition<_xensim_pageserver_v1_ReplicateFramesRequest, _xensim_pageserver_v1_FenceReply, _xensim_pageserver_v1_ReplicateFramesRequest__Output, _xensim_pageserver_v1_FenceReply__Output>
  WriteFrames: MethodDefinition<_xensim_pageserver_v1_WriteFramesRequest, _xensim_pageserver_v1_FenceReply, _xensim_pageserver_v1_WriteFramesRequest__Output, _xensim_pageserver_v1_FenceReply__Output>
}
