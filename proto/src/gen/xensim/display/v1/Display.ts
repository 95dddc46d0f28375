// Original file: proto/xensim/display/v1/display.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Frame as _xensim_display_v1_Frame, Frame__Output as _xensim_display_v1_Frame__Output } from '../../../xensim/display/v1/Frame.js';
import type { FrameRequest as _xensim_display_v1_FrameRequest, FrameRequest__Output as _xensim_display_v1_FrameRequest__Output } from '../../../xensim/display/v1/FrameRequest.js';
import type { ListScreensRequest as _xensim_display_v1_ListScreensRequest, ListScreensRequest__Output as _xensim_display_v1_ListScreensRequest__Output } from '../../../xensim/display/v1/ListScreensRequest.js';
import type { ScreenList as _xensim_display_v1_ScreenList, ScreenList__Output as _xensim_display_v1_ScreenList__Output } from '../../../xensim/display/v1/ScreenList.js';

export interface DisplayClient extends grpc.Client {
  GetFrame(argument: _xensim_display_v1_FrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  GetFrame(argument: _xensim_display_v1_FrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  GetFrame(argument: _xensim_display_v1_FrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  GetFrame(argument: _xensim_display_v1_FrameRequest, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  getFrame(argument: _xensim_display_v1_FrameRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  getFrame(argument: _xensim_display_v1_FrameRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  getFrame(argument: _xensim_display_v1_FrameRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  getFrame(argument: _xensim_display_v1_FrameRequest, callback: grpc.requestCallback<_xensim_display_v1_Frame__Output>): grpc.ClientUnaryCall;
  
  ListScreens(argument: _xensim_display_v1_ListScreensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  ListScreens(argument: _xensim_display_v1_ListScreensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  ListScreens(argument: _xensim_display_v1_ListScreensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  ListScreens(argument: _xensim_display_v1_ListScreensRequest, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  listScreens(argument: _xensim_display_v1_ListScreensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  listScreens(argument: _xensim_display_v1_ListScreensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  listScreens(argument: _xensim_display_v1_ListScreensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  listScreens(argument: _xensim_display_v1_ListScreensRequest, callback: grpc.requestCallback<_xensim_display_v1_ScreenList__Output>): grpc.ClientUnaryCall;
  
}

export interface DisplayHandlers extends grpc.UntypedServiceImplementation {
  GetFrame: grpc.handleUnaryCall<_xensim_display_v1_FrameRequest__Output, _xensim_display_v1_Frame>;
  
  ListScreens: grpc.handleUnaryCall<_xensim_display_v1_ListScreensRequest__Output, _xensim_display_v1_ScreenList>;
  
}

export interface DisplayDefinition extends grpc.ServiceDefinition {
  GetFrame: MethodDefinition<_xensim_display_v1_FrameRequest, _xensim_display_v1_Frame, _xensim_display_v1_FrameRequest__Output, _xensim_display_v1_Frame__Output>
  ListScreens: MethodDefinition<_xensim_display_v1_ListScreensRequest, _xensim_display_v1_ScreenList, _xensim_display_v1_ListScreensRequest__Output, _xensim_display_v1_ScreenList__Output>
}
