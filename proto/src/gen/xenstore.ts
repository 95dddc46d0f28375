import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Empty as _xensim_xenstore_v1_Empty, Empty__Output as _xensim_xenstore_v1_Empty__Output } from './xensim/xenstore/v1/Empty.js';
import type { OpenSessionReply as _xensim_xenstore_v1_OpenSessionReply, OpenSessionReply__Output as _xensim_xenstore_v1_OpenSessionReply__Output } from './xensim/xenstore/v1/OpenSessionReply.js';
import type { OpenSessionRequest as _xensim_xenstore_v1_OpenSessionRequest, OpenSessionRequest__Output as _xensim_xenstore_v1_OpenSessionRequest__Output } from './xensim/xenstore/v1/OpenSessionRequest.js';
import type { SessionRef as _xensim_xenstore_v1_SessionRef, SessionRef__Output as _xensim_xenstore_v1_SessionRef__Output } from './xensim/xenstore/v1/SessionRef.js';
import type { WatchEvent as _xensim_xenstore_v1_WatchEvent, WatchEvent__Output as _xensim_xenstore_v1_WatchEvent__Output } from './xensim/xenstore/v1/WatchEvent.js';
import type { XenstoreClient as _xensim_xenstore_v1_XenstoreClient, XenstoreDefinition as _xensim_xenstore_v1_XenstoreDefinition } from './xensim/xenstore/v1/Xenstore.js';
import type { XsReply as _xensim_xenstore_v1_XsReply, XsReply__Output as _xensim_xenstore_v1_XsReply__Output } from './xensim/xenstore/v1/XsReply.js';
import type { XsRequest as _xensim_xenstore_v1_XsRequest, XsRequest__Output as _xensim_xenstore_v1_XsRequest__Output } from './xensim/xenstore/v1/XsRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    xenstore: {
      v1: {
        Empty: MessageTypeDefinition<_xensim_xenstore_v1_Empty, _xensim_xenstore_v1_Empty__Output>
        OpenSessionReply: MessageTypeDefinition<_xensim_xenstore_v1_OpenSessionReply, _xensim_xenstore_v1_OpenSessionReply__Output>
        OpenSessionRequest: MessageTypeDefinition<_xensim_xenstore_v1_OpenSessionRequest, _xensim_xenstore_v1_OpenSessionRequest__Output>
        SessionRef: MessageTypeDefinition<_xensim_xenstore_v1_SessionRef, _xensim_xenstore_v1_SessionRef__Output>
        WatchEvent: MessageTypeDefinition<_xensim_xenstore_v1_WatchEvent, _xensim_xenstore_v1_WatchEvent__Output>
        Xenstore: SubtypeConstructor<typeof grpc.Client, _xensim_xenstore_v1_XenstoreClient> & { service: _xensim_xenstore_v1_XenstoreDefinition }
        XsReply: MessageTypeDefinition<_xensim_xenstore_v1_XsReply, _xensim_xenstore_v1_XsReply__Output>
        XsRequest: MessageTypeDefinition<_xensim_xenstore_v1_XsRequest, _xensim_xenstore_v1_XsRequest__Output>
      }
    }
  }
}

