import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AllocFramesReply as _xensim_pageserver_v1_AllocFramesReply, AllocFramesReply__Output as _xensim_pageserver_v1_AllocFramesReply__Output } from './xensim/pageserver/v1/AllocFramesReply.js';
import type { AllocFramesRequest as _xensim_pageserver_v1_AllocFramesRequest, AllocFramesRequest__Output as _xensim_pageserver_v1_AllocFramesRequest__Output } from './xensim/pageserver/v1/AllocFramesRequest.js';
import type { FrameWrite as _xensim_pageserver_v1_FrameWrite, FrameWrite__Output as _xensim_pageserver_v1_FrameWrite__Output } from './xensim/pageserver/v1/FrameWrite.js';
import type { LinkPeer as _xensim_pageserver_v1_LinkPeer, LinkPeer__Output as _xensim_pageserver_v1_LinkPeer__Output } from './xensim/pageserver/v1/LinkPeer.js';
import type { LinkStatusReply as _xensim_pageserver_v1_LinkStatusReply, LinkStatusReply__Output as _xensim_pageserver_v1_LinkStatusReply__Output } from './xensim/pageserver/v1/LinkStatusReply.js';
import type { LinkStatusRequest as _xensim_pageserver_v1_LinkStatusRequest, LinkStatusRequest__Output as _xensim_pageserver_v1_LinkStatusRequest__Output } from './xensim/pageserver/v1/LinkStatusRequest.js';
import type { PageServerClient as _xensim_pageserver_v1_PageServerClient, PageServerDefinition as _xensim_pageserver_v1_PageServerDefinition } from './xensim/pageserver/v1/PageServer.js';
import type { ReadFrameReply as _xensim_pageserver_v1_ReadFrameReply, ReadFrameReply__Output as _xensim_pageserver_v1_ReadFrameReply__Output } from './xensim/pageserver/v1/ReadFrameReply.js';
import type { ReadFrameRequest as _xensim_pageserver_v1_ReadFrameRequest, ReadFrameRequest__Output as _xensim_pageserver_v1_ReadFrameRequest__Output } from './xensim/pageserver/v1/ReadFrameRequest.js';
import type { WriteFramesReply as _xensim_pageserver_v1_WriteFramesReply, WriteFramesReply__Output as _xensim_pageserver_v1_WriteFramesReply__Output } from './xensim/pageserver/v1/WriteFramesReply.js';
import type { WriteFramesRequest as _xensim_pageserver_v1_WriteFramesRequest, WriteFramesRequest__Output as _xensim_pageserver_v1_WriteFramesRequest__Output } from './xensim/pageserver/v1/WriteFramesRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    pageserver: {
      v1: {
        AllocFramesReply: MessageTypeDefinition<_xensim_pageserver_v1_AllocFramesReply, _xensim_pageserver_v1_AllocFramesReply__Output>
        AllocFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_AllocFramesRequest, _xensim_pageserver_v1_AllocFramesRequest__Output>
        FrameWrite: MessageTypeDefinition<_xensim_pageserver_v1_FrameWrite, _xensim_pageserver_v1_FrameWrite__Output>
        LinkPeer: MessageTypeDefinition<_xensim_pageserver_v1_LinkPeer, _xensim_pageserver_v1_LinkPeer__Output>
        LinkStatusReply: MessageTypeDefinition<_xensim_pageserver_v1_LinkStatusReply, _xensim_pageserver_v1_LinkStatusReply__Output>
        LinkStatusRequest: MessageTypeDefinition<_xensim_pageserver_v1_LinkStatusRequest, _xensim_pageserver_v1_LinkStatusRequest__Output>
        PageServer: SubtypeConstructor<typeof grpc.Client, _xensim_pageserver_v1_PageServerClient> & { service: _xensim_pageserver_v1_PageServerDefinition }
        ReadFrameReply: MessageTypeDefinition<_xensim_pageserver_v1_ReadFrameReply, _xensim_pageserver_v1_ReadFrameReply__Output>
        ReadFrameRequest: MessageTypeDefinition<_xensim_pageserver_v1_ReadFrameRequest, _xensim_pageserver_v1_ReadFrameRequest__Output>
        WriteFramesReply: MessageTypeDefinition<_xensim_pageserver_v1_WriteFramesReply, _xensim_pageserver_v1_WriteFramesReply__Output>
        WriteFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_WriteFramesRequest, _xensim_pageserver_v1_WriteFramesRequest__Output>
      }
    }
  }
}

