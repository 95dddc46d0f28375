import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConsoleReadReply as _xensim_devicemodel_v1_ConsoleReadReply, ConsoleReadReply__Output as _xensim_devicemodel_v1_ConsoleReadReply__Output } from './xensim/devicemodel/v1/ConsoleReadReply.js';
import type { ConsoleReadRequest as _xensim_devicemodel_v1_ConsoleReadRequest, ConsoleReadRequest__Output as _xensim_devicemodel_v1_ConsoleReadRequest__Output } from './xensim/devicemodel/v1/ConsoleReadRequest.js';
import type { ConsoleWriteRequest as _xensim_devicemodel_v1_ConsoleWriteRequest, ConsoleWriteRequest__Output as _xensim_devicemodel_v1_ConsoleWriteRequest__Output } from './xensim/devicemodel/v1/ConsoleWriteRequest.js';
import type { DeviceModelClient as _xensim_devicemodel_v1_DeviceModelClient, DeviceModelDefinition as _xensim_devicemodel_v1_DeviceModelDefinition } from './xensim/devicemodel/v1/DeviceModel.js';
import type { DmRc as _xensim_devicemodel_v1_DmRc, DmRc__Output as _xensim_devicemodel_v1_DmRc__Output } from './xensim/devicemodel/v1/DmRc.js';
import type { EmulatorInfo as _xensim_devicemodel_v1_EmulatorInfo, EmulatorInfo__Output as _xensim_devicemodel_v1_EmulatorInfo__Output } from './xensim/devicemodel/v1/EmulatorInfo.js';
import type { EmulatorList as _xensim_devicemodel_v1_EmulatorList, EmulatorList__Output as _xensim_devicemodel_v1_EmulatorList__Output } from './xensim/devicemodel/v1/EmulatorList.js';
import type { EmulatorRef as _xensim_devicemodel_v1_EmulatorRef, EmulatorRef__Output as _xensim_devicemodel_v1_EmulatorRef__Output } from './xensim/devicemodel/v1/EmulatorRef.js';
import type { ListRequest as _xensim_devicemodel_v1_ListRequest, ListRequest__Output as _xensim_devicemodel_v1_ListRequest__Output } from './xensim/devicemodel/v1/ListRequest.js';
import type { SaveStateReply as _xensim_devicemodel_v1_SaveStateReply, SaveStateReply__Output as _xensim_devicemodel_v1_SaveStateReply__Output } from './xensim/devicemodel/v1/SaveStateReply.js';
import type { SaveStateRequest as _xensim_devicemodel_v1_SaveStateRequest, SaveStateRequest__Output as _xensim_devicemodel_v1_SaveStateRequest__Output } from './xensim/devicemodel/v1/SaveStateRequest.js';
import type { StartReply as _xensim_devicemodel_v1_StartReply, StartReply__Output as _xensim_devicemodel_v1_StartReply__Output } from './xensim/devicemodel/v1/StartReply.js';
import type { StartRequest as _xensim_devicemodel_v1_StartRequest, StartRequest__Output as _xensim_devicemodel_v1_StartRequest__Output } from './xensim/devicemodel/v1/StartRequest.js';
import type { VgaTextReply as _xensim_devicemodel_v1_VgaTextReply, VgaTextReply__Output as _xensim_devicemodel_v1_VgaTextReply__Output } from './xensim/devicemodel/v1/VgaTextReply.js';
import type { VgaTextRequest as _xensim_devicemodel_v1_VgaTextRequest, VgaTextRequest__Output as _xensim_devicemodel_v1_VgaTextRequest__Output } from './xensim/devicemodel/v1/VgaTextRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    devicemodel: {
      v1: {
        ConsoleReadReply: MessageTypeDefinition<_xensim_devicemodel_v1_ConsoleReadReply, _xensim_devicemodel_v1_ConsoleReadReply__Output>
        ConsoleReadRequest: MessageTypeDefinition<_xensim_devicemodel_v1_ConsoleReadRequest, _xensim_devicemodel_v1_ConsoleReadRequest__Output>
        ConsoleWriteRequest: MessageTypeDefinition<_xensim_devicemodel_v1_ConsoleWriteRequest, _xensim_devicemodel_v1_ConsoleWriteRequest__Output>
        DeviceModel: SubtypeConstructor<typeof grpc.Client, _xensim_devicemodel_v1_DeviceModelClient> & { service: _xensim_devicemodel_v1_DeviceModelDefinition }
        DmRc: MessageTypeDefinition<_xensim_devicemodel_v1_DmRc, _xensim_devicemodel_v1_DmRc__Output>
        EmulatorInfo: MessageTypeDefinition<_xensim_devicemodel_v1_EmulatorInfo, _xensim_devicemodel_v1_EmulatorInfo__Output>
        EmulatorList: MessageTypeDefinition<_xensim_devicemodel_v1_EmulatorList, _xensim_devicemodel_v1_EmulatorList__Output>
        EmulatorRef: MessageTypeDefinition<_xensim_devicemodel_v1_EmulatorRef, _xensim_devicemodel_v1_EmulatorRef__Output>
        ListRequest: MessageTypeDefinition<_xensim_devicemodel_v1_ListRequest, _xensim_devicemodel_v1_ListRequest__Output>
        SaveStateReply: MessageTypeDefinition<_xensim_devicemodel_v1_SaveStateReply, _xensim_devicemodel_v1_SaveStateReply__Output>
        SaveStateRequest: MessageTypeDefinition<_xensim_devicemodel_v1_SaveStateRequest, _xensim_devicemodel_v1_SaveStateRequest__Output>
        StartReply: MessageTypeDefinition<_xensim_devicemodel_v1_StartReply, _xensim_devicemodel_v1_StartReply__Output>
        StartRequest: MessageTypeDefinition<_xensim_devicemodel_v1_StartRequest, _xensim_devicemodel_v1_StartRequest__Output>
        VgaTextReply: MessageTypeDefinition<_xensim_devicemodel_v1_VgaTextReply, _xensim_devicemodel_v1_VgaTextReply__Output>
        VgaTextRequest: MessageTypeDefinition<_xensim_devicemodel_v1_VgaTextRequest, _xensim_devicemodel_v1_VgaTextRequest__Output>
      }
    }
  }
}

