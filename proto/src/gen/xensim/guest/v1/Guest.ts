// Original file: proto/xensim/guest/v1/guest.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BootReply as _xensim_guest_v1_BootReply, BootReply__Output as _xensim_guest_v1_BootReply__Output } from '../../../xensim/guest/v1/BootReply.js';
import type { BootRequest as _xensim_guest_v1_BootRequest, BootRequest__Output as _xensim_guest_v1_BootRequest__Output } from '../../../xensim/guest/v1/BootRequest.js';
import type { GuestList as _xensim_guest_v1_GuestList, GuestList__Output as _xensim_guest_v1_GuestList__Output } from '../../../xensim/guest/v1/GuestList.js';
import type { GuestRc as _xensim_guest_v1_GuestRc, GuestRc__Output as _xensim_guest_v1_GuestRc__Output } from '../../../xensim/guest/v1/GuestRc.js';
import type { GuestRef as _xensim_guest_v1_GuestRef, GuestRef__Output as _xensim_guest_v1_GuestRef__Output } from '../../../xensim/guest/v1/GuestRef.js';
import type { ListRequest as _xensim_guest_v1_ListRequest, ListRequest__Output as _xensim_guest_v1_ListRequest__Output } from '../../../xensim/guest/v1/ListRequest.js';

export interface GuestClient extends grpc.Client {
  Boot(argument: _xensim_guest_v1_BootRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  Boot(argument: _xensim_guest_v1_BootRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  Boot(argument: _xensim_guest_v1_BootRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  Boot(argument: _xensim_guest_v1_BootRequest, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  boot(argument: _xensim_guest_v1_BootRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  boot(argument: _xensim_guest_v1_BootRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  boot(argument: _xensim_guest_v1_BootRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  boot(argument: _xensim_guest_v1_BootRequest, callback: grpc.requestCallback<_xensim_guest_v1_BootReply__Output>): grpc.ClientUnaryCall;
  
  Halt(argument: _xensim_guest_v1_GuestRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  Halt(argument: _xensim_guest_v1_GuestRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  Halt(argument: _xensim_guest_v1_GuestRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  Halt(argument: _xensim_guest_v1_GuestRef, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  halt(argument: _xensim_guest_v1_GuestRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  halt(argument: _xensim_guest_v1_GuestRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  halt(argument: _xensim_guest_v1_GuestRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  halt(argument: _xensim_guest_v1_GuestRef, callback: grpc.requestCallback<_xensim_guest_v1_GuestRc__Output>): grpc.ClientUnaryCall;
  
  List(argument: _xensim_guest_v1_ListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  List(argument: _xensim_guest_v1_ListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  List(argument: _xensim_guest_v1_ListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  List(argument: _xensim_guest_v1_ListRequest, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_guest_v1_ListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_guest_v1_ListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_guest_v1_ListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_guest_v1_ListRequest, callback: grpc.requestCallback<_xensim_guest_v1_GuestList__Output>): grpc.ClientUnaryCall;
  
}

export interface GuestHandlers extends grpc.UntypedServiceImplementation {
  Boot: grpc.handleUnaryCall<_xensim_guest_v1_BootRequest__Output, _xensim_guest_v1_BootReply>;
  
  Halt: grpc.handleUnaryCall<_xensim_guest_v1_GuestRef__Output, _xensim_guest_v1_GuestRc>;
  
  List: grpc.handleUnaryCall<_xensim_guest_v1_ListRequest__Output, _xensim_guest_v1_GuestList>;
  
}

export interface GuestDefinition extends grpc.ServiceDefinition {
  Boot: MethodDefinition<_xensim_guest_v1_BootRequest, _xensim_guest_v1_BootReply, _xensim_guest_v1_BootRequest__Output, _xensim_guest_v1_BootReply__Output>
  Halt: MethodDefinition<_xensim_guest_v1_GuestRef, _xensim_guest_v1_GuestRc, _xensim_guest_v1_GuestRef__Output, _xensim_guest_v1_GuestRc__Output>
  List: MethodDefinition<_xensim_guest_v1_ListRequest, _xensim_guest_v1_GuestList, _xensim_guest_v1_ListRequest__Output, _xensim_guest_v1_GuestList__Output>
}
