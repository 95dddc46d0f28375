// Original file: proto/xensim/xenstore/v1/xenstore.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Empty as _xensim_xenstore_v1_Empty, Empty__Output as _xensim_xenstore_v1_Empty__Output } from '../../../xensim/xenstore/v1/Empty.js';
import type { OpenSessionReply as _xensim_xenstore_v1_OpenSessionReply, OpenSessionReply__Output as _xensim_xenstore_v1_OpenSessionReply__Output } from '../../../xensim/xenstore/v1/OpenSessionReply.js';
import type { OpenSessionRequest as _xensim_xenstore_v1_OpenSessionRequest, OpenSessionRequest__Output as _xensim_xenstore_v1_OpenSessionRequest__Output } from '../../../xensim/xenstore/v1/OpenSessionRequest.js';
import type { SessionRef as _xensim_xenstore_v1_SessionRef, SessionRef__Output as _xensim_xenstore_v1_SessionRef__Output } from '../../../xensim/xenstore/v1/SessionRef.js';
import type { XsReply as _xensim_xenstore_v1_XsReply, XsReply__Output as _xensim_xenstore_v1_XsReply__Output } from '../../../xensim/xenstore/v1/XsReply.js';
import type { XsRequest as _xensim_xenstore_v1_XsRequest, XsRequest__Output as _xensim_xenstore_v1_XsRequest__Output } from '../../../xensim/xenstore/v1/XsRequest.js';

export interface XenstoreClient extends grpc.Client {
  CloseSession(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  CloseSession(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  CloseSession(argument: _xensim_xenstore_v1_SessionRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  CloseSession(argument: _xensim_xenstore_v1_SessionRef, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _xensim_xenstore_v1_SessionRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  closeSession(argument: _xensim_xenstore_v1_SessionRef, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  KeepAlive(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  KeepAlive(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  KeepAlive(argument: _xensim_xenstore_v1_SessionRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  KeepAlive(argument: _xensim_xenstore_v1_SessionRef, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _xensim_xenstore_v1_SessionRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _xensim_xenstore_v1_SessionRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  keepAlive(argument: _xensim_xenstore_v1_SessionRef, callback: grpc.requestCallback<_xensim_xenstore_v1_Empty__Output>): grpc.ClientUnaryCall;
  
  OpenSession(argument: _xensim_xenstore_v1_OpenSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  OpenSession(argument: _xensim_xenstore_v1_OpenSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  OpenSession(argument: _xensim_xenstore_v1_OpenSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  OpenSession(argument: _xensim_xenstore_v1_OpenSessionRequest, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  openSession(argument: _xensim_xenstore_v1_OpenSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  openSession(argument: _xensim_xenstore_v1_OpenSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  openSession(argument: _xensim_xenstore_v1_OpenSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  openSession(argument: _xensim_xenstore_v1_OpenSessionRequest, callback: grpc.requestCallback<_xensim_xenstore_v1_OpenSessionReply__Output>): grpc.ClientUnaryCall;
  
  Request(argument: _xensim_xenstore_v1_XsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  Request(argument: _xensim_xenstore_v1_XsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  Request(argument: _xensim_xenstore_v1_XsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  Request(argument: _xensim_xenstore_v1_XsRequest, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  request(argument: _xensim_xenstore_v1_XsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  request(argument: _xensim_xenstore_v1_XsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  request(argument: _xensim_xenstore_v1_XsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  request(argument: _xensim_xenstore_v1_XsRequest, callback: grpc.requestCallback<_xensim_xenstore_v1_XsReply__Output>): grpc.ClientUnaryCall;
  
}

export interface XenstoreHandlers extends grpc.UntypedServiceImplementation {
  CloseSession: grpc.handleUnaryCall<_xensim_xenstore_v1_SessionRef__Output, _xensim_xenstore_v1_Empty>;
  
  KeepAlive: grpc.handleUnaryCall<_xensim_xenstore_v1_SessionRef__Output, _xensim_xenstore_v1_Empty>;
  
  OpenSession: grpc.handleUnaryCall<_xensim_xenstore_v1_OpenSessionRequest__Output, _xensim_xenstore_v1_OpenSessionReply>;
  
  Request: grpc.handleUnaryCall<_xensim_xenstore_v1_XsRequest__Output, _xensim_xenstore_v1_XsReply>;
  
}

export interface XenstoreDefinition extends grpc.ServiceDefinition {
  CloseSession: MethodDefinition<_xensim_xenstore_v1_SessionRef, _xensim_xenstore_v1_Empty, _xensim_xenstore_v1_SessionRef__Output, _xensim_xenstore_v1_Empty__Output>
  KeepAlive: MethodDefinition<_xensim_xenstore_v1_SessionRef, _xensim_xenstore_v1_Empty, _xensim_xenstore_v1_SessionRef__Output, _xensim_xenstore_v1_Empty__Output>
  OpenSession: MethodDefinition<_xensim_xenstore_v1_OpenSessionRequest, _xensim_xenstore_v1_OpenSessionReply, _xensim_xenstore_v1_OpenSessionRequest__Output, _xensim_xenstore_v1_OpenSessionReply__Output>
  Request: MethodDefinition<_xensim_xenstore_v1_XsRequest, _xensim_xenstore_v1_XsReply, _xensim_xenstore_v1_XsRequest__Output, _xensim_xenstore_v1_XsReply__Output>
}
