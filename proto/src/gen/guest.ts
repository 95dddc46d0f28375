import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BootReply as _xensim_guest_v1_BootReply, BootReply__Output as _xensim_guest_v1_BootReply__Output } from './xensim/guest/v1/BootReply.js';
import type { BootRequest as _xensim_guest_v1_BootRequest, BootRequest__Output as _xensim_guest_v1_BootRequest__Output } from './xensim/guest/v1/BootRequest.js';
import type { DiskStatus as _xensim_guest_v1_DiskStatus, DiskStatus__Output as _xensim_guest_v1_DiskStatus__Output } from './xensim/guest/v1/DiskStatus.js';
import type { GuestClient as _xensim_guest_v1_GuestClient, GuestDefinition as _xensim_guest_v1_GuestDefinition } from './xensim/guest/v1/Guest.js';
import type { GuestList as _xensim_guest_v1_GuestList, GuestList__Output as _xensim_guest_v1_GuestList__Output } from './xensim/guest/v1/GuestList.js';
import type { GuestRc as _xensim_guest_v1_GuestRc, GuestRc__Output as _xensim_guest_v1_GuestRc__Output } from './xensim/guest/v1/GuestRc.js';
import type { GuestRef as _xensim_guest_v1_GuestRef, GuestRef__Output as _xensim_guest_v1_GuestRef__Output } from './xensim/guest/v1/GuestRef.js';
import type { GuestStatus as _xensim_guest_v1_GuestStatus, GuestStatus__Output as _xensim_guest_v1_GuestStatus__Output } from './xensim/guest/v1/GuestStatus.js';
import type { ListRequest as _xensim_guest_v1_ListRequest, ListRequest__Output as _xensim_guest_v1_ListRequest__Output } from './xensim/guest/v1/ListRequest.js';
import type { WorkloadStatus as _xensim_guest_v1_WorkloadStatus, WorkloadStatus__Output as _xensim_guest_v1_WorkloadStatus__Output } from './xensim/guest/v1/WorkloadStatus.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    guest: {
      v1: {
        BootReply: MessageTypeDefinition<_xensim_guest_v1_BootReply, _xensim_guest_v1_BootReply__Output>
        BootRequest: MessageTypeDefinition<_xensim_guest_v1_BootRequest, _xensim_guest_v1_BootRequest__Output>
        DiskStatus: MessageTypeDefinition<_xensim_guest_v1_DiskStatus, _xensim_guest_v1_DiskStatus__Output>
        Guest: SubtypeConstructor<typeof grpc.Client, _xensim_guest_v1_GuestClient> & { service: _xensim_guest_v1_GuestDefinition }
        GuestList: MessageTypeDefinition<_xensim_guest_v1_GuestList, _xensim_guest_v1_GuestList__Output>
        GuestRc: MessageTypeDefinition<_xensim_guest_v1_GuestRc, _xensim_guest_v1_GuestRc__Output>
        GuestRef: MessageTypeDefinition<_xensim_guest_v1_GuestRef, _xensim_guest_v1_GuestRef__Output>
        GuestStatus: MessageTypeDefinition<_xensim_guest_v1_GuestStatus, _xensim_guest_v1_GuestStatus__Output>
        ListRequest: MessageTypeDefinition<_xensim_guest_v1_ListRequest, _xensim_guest_v1_ListRequest__Output>
        WorkloadStatus: MessageTypeDefinition<_xensim_guest_v1_WorkloadStatus, _xensim_guest_v1_WorkloadStatus__Output>
      }
    }
  }
}

