// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AllocFramesReply as _xensim_pageserver_v1_AllocFramesReply, AllocFramesReply__Output as _xensim_pageserver_v1_AllocFramesReply__Output } from '../../../xensim/pageserver/v1/AllocFramesReply.js';
import type { AllocFramesRequest as _xensim_pageserver_v1_AllocFramesRequest, AllocFramesRequest__Output as _xensim_pageserver_v1_AllocFramesRequest__Output } from '../../../xensim/pageserver/v1/AllocFramesRequest.js';
import type { LinkStatusReply as _xensim_pageserver_v1_LinkStatusReply, LinkStatusReply__Output as _xensim_pageserver_v1_LinkStatusReply__Output } from '../../../xensim/pageserver/v1/LinkStatusReply.js';
import type { LinkStatusRequest as _xensim_pageserver_v1_LinkStatusRequest, LinkStatusRequest__Output as _xensim_pageserver_v1_LinkStatusRequest__Output } from '../../../xensim/pageserver/v1/LinkStatusRequest.js';
import type { ReadFrameReply as _xensim_pageserver_v1_ReadFrameReply, ReadFrameReply__Output as _xensim_pageserver_v1_ReadFrameReply__Output } from '../../../xensim/pageserver/v1/ReadFrameReply.js';
import type { ReadFrameRequest as _xensim_pageserver_v1_ReadFrameRequest, ReadFrameRequest__Output as _xensim_pageserver_v1_ReadFrameRequest__Output } from '../../../xensim/pageserver/v1/ReadFrameRequest.js';
import type { WriteFramesReply as _xensim_pageserver_v1_WriteFramesReply, WriteFramesReply__Output as _xensim_pageserver_v1_WriteFramesReply__Output } from '../../../xensim/pageserver/v1/WriteFramesReply.js';
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
  
  LinkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  LinkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  LinkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  LinkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  linkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  linkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  linkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  linkStatus(argument: _xensim_pageserver_v1_LinkStatusRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_LinkStatusReply__Output>): grpc.ClientUnaryCall;
  
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  ReadFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  readFrame(argument: _xensim_pageserver_v1_ReadFrameRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_ReadFrameReply__Output>): grpc.ClientUnaryCall;
  
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  WriteFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  writeFrames(argument: _xensim_pageserver_v1_WriteFramesRequest, callback: grpc.requestCallback<_xensim_pageserver_v1_WriteFramesReply__Output>): grpc.ClientUnaryCall;
  
}

export interface PageServerHandlers extends grpc.UntypedServiceImplementation {
  AllocFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_AllocFramesRequest__Output, _xensim_pageserver_v1_AllocFramesReply>;
  
  LinkStatus: grpc.handleUnaryCall<_xensim_pageserver_v1_LinkStatusRequest__Output, _xensim_pageserver_v1_LinkStatusReply>;
  
  ReadFrame: grpc.handleUnaryCall<_xensim_pageserver_v1_ReadFrameRequest__Output, _xensim_pageserver_v1_ReadFrameReply>;
  
  WriteFrames: grpc.handleUnaryCall<_xensim_pageserver_v1_WriteFramesRequest__Output, _xensim_pageserver_v1_WriteFramesReply>;
  
}

export interface PageServerDefinition extends grpc.ServiceDefinition {
  AllocFrames: MethodDefinition<_xensim_pageserver_v1_AllocFramesRequest, _xensim_pageserver_v1_AllocFramesReply, _xensim_pageserver_v1_AllocFramesRequest__Output, _xensim_pageserver_v1_AllocFramesReply__Output>
  LinkStatus: MethodDefinition<_xensim_pageserver_v1_LinkStatusRequest, _xensim_pageserver_v1_LinkStatusReply, _xensim_pageserver_v1_LinkStatusRequest__Output, _xensim_pageserver_v1_LinkStatusReply__Output>
  ReadFrame: MethodDefinition<_xensim_pageserver_v1_ReadFrameRequest, _xensim_pageserver_v1_ReadFrameReply, _xensim_pageserver_v1_ReadFrameRequest__Output, _xensim_pageserver_v1_ReadFrameReply__Output>
  WriteFrames: MethodDefinition<_xensim_pageserver_v1_WriteFramesRequest, _xensim_pageserver_v1_WriteFramesReply, _xensim_pageserver_v1_WriteFramesRequest__Output, _xensim_pageserver_v1_WriteFramesReply__Output>
}
