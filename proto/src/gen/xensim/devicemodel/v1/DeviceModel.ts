// Original file: proto/xensim/devicemodel/v1/devicemodel.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ConsoleReadReply as _xensim_devicemodel_v1_ConsoleReadReply, ConsoleReadReply__Output as _xensim_devicemodel_v1_ConsoleReadReply__Output } from '../../../xensim/devicemodel/v1/ConsoleReadReply.js';
import type { ConsoleReadRequest as _xensim_devicemodel_v1_ConsoleReadRequest, ConsoleReadRequest__Output as _xensim_devicemodel_v1_ConsoleReadRequest__Output } from '../../../xensim/devicemodel/v1/ConsoleReadRequest.js';
import type { ConsoleWriteRequest as _xensim_devicemodel_v1_ConsoleWriteRequest, ConsoleWriteRequest__Output as _xensim_devicemodel_v1_ConsoleWriteRequest__Output } from '../../../xensim/devicemodel/v1/ConsoleWriteRequest.js';
import type { DmRc as _xensim_devicemodel_v1_DmRc, DmRc__Output as _xensim_devicemodel_v1_DmRc__Output } from '../../../xensim/devicemodel/v1/DmRc.js';
import type { EmulatorList as _xensim_devicemodel_v1_EmulatorList, EmulatorList__Output as _xensim_devicemodel_v1_EmulatorList__Output } from '../../../xensim/devicemodel/v1/EmulatorList.js';
import type { EmulatorRef as _xensim_devicemodel_v1_EmulatorRef, EmulatorRef__Output as _xensim_devicemodel_v1_EmulatorRef__Output } from '../../../xensim/devicemodel/v1/EmulatorRef.js';
import type { ListRequest as _xensim_devicemodel_v1_ListRequest, ListRequest__Output as _xensim_devicemodel_v1_ListRequest__Output } from '../../../xensim/devicemodel/v1/ListRequest.js';
import type { SaveStateReply as _xensim_devicemodel_v1_SaveStateReply, SaveStateReply__Output as _xensim_devicemodel_v1_SaveStateReply__Output } from '../../../xensim/devicemodel/v1/SaveStateReply.js';
import type { SaveStateRequest as _xensim_devicemodel_v1_SaveStateRequest, SaveStateRequest__Output as _xensim_devicemodel_v1_SaveStateRequest__Output } from '../../../xensim/devicemodel/v1/SaveStateRequest.js';
import type { StartReply as _xensim_devicemodel_v1_StartReply, StartReply__Output as _xensim_devicemodel_v1_StartReply__Output } from '../../../xensim/devicemodel/v1/StartReply.js';
import type { StartRequest as _xensim_devicemodel_v1_StartRequest, StartRequest__Output as _xensim_devicemodel_v1_StartRequest__Output } from '../../../xensim/devicemodel/v1/StartRequest.js';
import type { VgaTextReply as _xensim_devicemodel_v1_VgaTextReply, VgaTextReply__Output as _xensim_devicemodel_v1_VgaTextReply__Output } from '../../../xensim/devicemodel/v1/VgaTextReply.js';
import type { VgaTextRequest as _xensim_devicemodel_v1_VgaTextRequest, VgaTextRequest__Output as _xensim_devicemodel_v1_VgaTextRequest__Output } from '../../../xensim/devicemodel/v1/VgaTextRequest.js';

export interface DeviceModelClient extends grpc.Client {
  ConsoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  ConsoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  ConsoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  ConsoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  consoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  consoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  consoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  consoleRead(argument: _xensim_devicemodel_v1_ConsoleReadRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_ConsoleReadReply__Output>): grpc.ClientUnaryCall;
  
  ConsoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  ConsoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  ConsoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  ConsoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  consoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  consoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  consoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  consoleWrite(argument: _xensim_devicemodel_v1_ConsoleWriteRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  
  List(argument: _xensim_devicemodel_v1_ListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  List(argument: _xensim_devicemodel_v1_ListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  List(argument: _xensim_devicemodel_v1_ListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  List(argument: _xensim_devicemodel_v1_ListRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_devicemodel_v1_ListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_devicemodel_v1_ListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_devicemodel_v1_ListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  list(argument: _xensim_devicemodel_v1_ListRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_EmulatorList__Output>): grpc.ClientUnaryCall;
  
  SaveState(argument: _xensim_devicemodel_v1_SaveStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  SaveState(argument: _xensim_devicemodel_v1_SaveStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  SaveState(argument: _xensim_devicemodel_v1_SaveStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  SaveState(argument: _xensim_devicemodel_v1_SaveStateRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  saveState(argument: _xensim_devicemodel_v1_SaveStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  saveState(argument: _xensim_devicemodel_v1_SaveStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  saveState(argument: _xensim_devicemodel_v1_SaveStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  saveState(argument: _xensim_devicemodel_v1_SaveStateRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_SaveStateReply__Output>): grpc.ClientUnaryCall;
  
  Start(argument: _xensim_devicemodel_v1_StartRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  Start(argument: _xensim_devicemodel_v1_StartRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  Start(argument: _xensim_devicemodel_v1_StartRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  Start(argument: _xensim_devicemodel_v1_StartRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  start(argument: _xensim_devicemodel_v1_StartRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  start(argument: _xensim_devicemodel_v1_StartRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  start(argument: _xensim_devicemodel_v1_StartRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  start(argument: _xensim_devicemodel_v1_StartRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_StartReply__Output>): grpc.ClientUnaryCall;
  
  Stop(argument: _xensim_devicemodel_v1_EmulatorRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  Stop(argument: _xensim_devicemodel_v1_EmulatorRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  Stop(argument: _xensim_devicemodel_v1_EmulatorRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  Stop(argument: _xensim_devicemodel_v1_EmulatorRef, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  stop(argument: _xensim_devicemodel_v1_EmulatorRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  stop(argument: _xensim_devicemodel_v1_EmulatorRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  stop(argument: _xensim_devicemodel_v1_EmulatorRef, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  stop(argument: _xensim_devicemodel_v1_EmulatorRef, callback: grpc.requestCallback<_xensim_devicemodel_v1_DmRc__Output>): grpc.ClientUnaryCall;
  
  VgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  VgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  VgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  VgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  vgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  vgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  vgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  vgaText(argument: _xensim_devicemodel_v1_VgaTextRequest, callback: grpc.requestCallback<_xensim_devicemodel_v1_VgaTextReply__Output>): grpc.ClientUnaryCall;
  
}

export interface DeviceModelHandlers extends grpc.UntypedServiceImplementation {
  ConsoleRead: grpc.handleUnaryCall<_xensim_devicemodel_v1_ConsoleReadRequest__Output, _xensim_devicemodel_v1_ConsoleReadReply>;
  
  ConsoleWrite: grpc.handleUnaryCall<_xensim_devicemodel_v1_ConsoleWriteRequest__Output, _xensim_devicemodel_v1_DmRc>;
  
  List: grpc.handleUnaryCall<_xensim_devicemodel_v1_ListRequest__Output, _xensim_devicemodel_v1_EmulatorList>;
  
  SaveState: grpc.handleUnaryCall<_xensim_devicemodel_v1_SaveStateRequest__Output, _xensim_devicemodel_v1_SaveStateReply>;
  
  Start: grpc.handleUnaryCall<_xensim_devicemodel_v1_StartRequest__Output, _xensim_devicemodel_v1_StartReply>;
  
  Stop: grpc.handleUnaryCall<_xensim_devicemodel_v1_EmulatorRef__Output, _xensim_devicemodel_v1_DmRc>;
  
  VgaText: grpc.handleUnaryCall<_xensim_devicemodel_v1_VgaTextRequest__Output, _xensim_devicemodel_v1_VgaTextReply>;
  
}

export interface DeviceModelDefinition extends grpc.ServiceDefinition {
  ConsoleRead: MethodDefinition<_xensim_devicemodel_v1_ConsoleReadRequest, _xensim_devicemodel_v1_ConsoleReadReply, _xensim_devicemodel_v1_ConsoleReadRequest__Output, _xensim_devicemodel_v1_ConsoleReadReply__Output>
  ConsoleWrite: MethodDefinition<_xensim_devicemodel_v1_ConsoleWriteRequest, _xensim_devicemodel_v1_DmRc, _xensim_devicemodel_v1_ConsoleWriteRequest__Output, _xensim_devicemodel_v1_DmRc__Output>
  List: MethodDefinition<_xensim_devicemodel_v1_ListRequest, _xensim_devicemodel_v1_EmulatorList, _xensim_devicemodel_v1_ListRequest__Output, _xensim_devicemodel_v1_EmulatorList__Output>
  SaveState: MethodDefinition<_xensim_devicemodel_v1_SaveStateRequest, _xensim_devicemodel_v1_SaveStateReply, _xensim_devicemodel_v1_SaveStateRequest__Output, _xensim_devicemodel_v1_SaveStateReply__Output>
  Start: MethodDefinition<_xensim_devicemodel_v1_StartRequest, _xensim_devicemodel_v1_StartReply, _xensim_devicemodel_v1_StartRequest__Output, _xensim_devicemodel_v1_StartReply__Output>
  Stop: MethodDefinition<_xensim_devicemodel_v1_EmulatorRef, _xensim_devicemodel_v1_DmRc, _xensim_devicemodel_v1_EmulatorRef__Output, _xensim_devicemodel_v1_DmRc__Output>
  VgaText: MethodDefinition<_xensim_devicemodel_v1_VgaTextRequest, _xensim_devicemodel_v1_VgaTextReply, _xensim_devicemodel_v1_VgaTextRequest__Output, _xensim_devicemodel_v1_VgaTextReply__Output>
}
