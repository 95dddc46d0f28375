// Original file: proto/xensim/testing/v1/echo.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { EchoReply as _xensim_testing_v1_EchoReply, EchoReply__Output as _xensim_testing_v1_EchoReply__Output } from '../../../xensim/testing/v1/EchoReply.js';
import type { EchoRequest as _xensim_testing_v1_EchoRequest, EchoRequest__Output as _xensim_testing_v1_EchoRequest__Output } from '../../../xensim/testing/v1/EchoRequest.js';
import type { FailRequest as _xensim_testing_v1_FailRequest, FailRequest__Output as _xensim_testing_v1_FailRequest__Output } from '../../../xensim/testing/v1/FailRequest.js';

export interface EchoClient extends grpc.Client {
  Echo(argument: _xensim_testing_v1_EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  Echo(argument: _xensim_testing_v1_EchoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  Echo(argument: _xensim_testing_v1_EchoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  Echo(argument: _xensim_testing_v1_EchoRequest, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _xensim_testing_v1_EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _xensim_testing_v1_EchoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _xensim_testing_v1_EchoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _xensim_testing_v1_EchoRequest, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  
  Fail(argument: _xensim_testing_v1_FailRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  Fail(argument: _xensim_testing_v1_FailRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  Fail(argument: _xensim_testing_v1_FailRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  Fail(argument: _xensim_testing_v1_FailRequest, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  fail(argument: _xensim_testing_v1_FailRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  fail(argument: _xensim_testing_v1_FailRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  fail(argument: _xensim_testing_v1_FailRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  fail(argument: _xensim_testing_v1_FailRequest, callback: grpc.requestCallback<_xensim_testing_v1_EchoReply__Output>): grpc.ClientUnaryCall;
  
}

export interface EchoHandlers extends grpc.UntypedServiceImplementation {
  Echo: grpc.handleUnaryCall<_xensim_testing_v1_EchoRequest__Output, _xensim_testing_v1_EchoReply>;
  
  Fail: grpc.handleUnaryCall<_xensim_testing_v1_FailRequest__Output, _xensim_testing_v1_EchoReply>;
  
}

export interface EchoDefinition extends grpc.ServiceDefinition {
  Echo: MethodDefinition<_xensim_testing_v1_EchoRequest, _xensim_testing_v1_EchoReply, _xensim_testing_v1_EchoRequest__Output, _xensim_testing_v1_EchoReply__Output>
  Fail: MethodDefinition<_xensim_testing_v1_FailRequest, _xensim_testing_v1_EchoReply, _xensim_testing_v1_FailRequest__Output, _xensim_testing_v1_EchoReply__Output>
}
