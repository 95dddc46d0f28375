import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AllocFramesReply as _xensim_pageserver_v1_AllocFramesReply, AllocFramesReply__Output as _xensim_pageserver_v1_AllocFramesReply__Output } from './xensim/pageserver/v1/AllocFramesReply.js';
import type { AllocFramesRequest as _xensim_pageserver_v1_AllocFramesRequest, AllocFramesRequest__Output as _xensim_pageserver_v1_AllocFramesRequest__Output } from './xensim/pageserver/v1/AllocFramesRequest.js';
import type { FenceRef as _xensim_pageserver_v1_FenceRef, FenceRef__Output as _xensim_pageserver_v1_FenceRef__Output } from './xensim/pageserver/v1/FenceRef.js';
import type { FenceReply as _xensim_pageserver_v1_FenceReply, FenceReply__Output as _xensim_pageserver_v1_FenceReply__Output } from './xensim/pageserver/v1/FenceReply.js';
import type { FenceRequest as _xensim_pageserver_v1_FenceRequest, FenceRequest__Output as _xensim_pageserver_v1_FenceRequest__Output } from './xensim/pageserver/v1/FenceRequest.js';
import type { FenceStatus as _xensim_pageserver_v1_FenceStatus, FenceStatus__Output as _xensim_pageserver_v1_FenceStatus__Output } from './xensim/pageserver/v1/FenceStatus.js';
import type { FetchBatchesReply as _xensim_pageserver_v1_FetchBatchesReply, FetchBatchesReply__Output as _xensim_pageserver_v1_FetchBatchesReply__Output } from './xensim/pageserver/v1/FetchBatchesReply.js';
import type { FetchBatchesRequest as _xensim_pageserver_v1_FetchBatchesRequest, FetchBatchesRequest__Output as _xensim_pageserver_v1_FetchBatchesRequest__Output } from './xensim/pageserver/v1/FetchBatchesRequest.js';
import type { FrameWrite as _xensim_pageserver_v1_FrameWrite, FrameWrite__Output as _xensim_pageserver_v1_FrameWrite__Output } from './xensim/pageserver/v1/FrameWrite.js';
import type { ImportFramesReply as _xensim_pageserver_v1_ImportFramesReply, ImportFramesReply__Output as _xensim_pageserver_v1_ImportFramesReply__Output } from './xensim/pageserver/v1/ImportFramesReply.js';
import type { ImportFramesRequest as _xensim_pageserver_v1_ImportFramesRequest, ImportFramesRequest__Output as _xensim_pageserver_v1_ImportFramesRequest__Output } from './xensim/pageserver/v1/ImportFramesRequest.js';
import type { PageServerClient as _xensim_pageserver_v1_PageServerClient, PageServerDefinition as _xensim_pageserver_v1_PageServerDefinition } from './xensim/pageserver/v1/PageServer.js';
import type { PublishRequest as _xensim_pageserver_v1_PublishRequest, PublishRequest__Output as _xensim_pageserver_v1_PublishRequest__Output } from './xensim/pageserver/v1/PublishRequest.js';
import type { ReadFrameReply as _xensim_pageserver_v1_ReadFrameReply, ReadFrameReply__Output as _xensim_pageserver_v1_ReadFrameReply__Output } from './xensim/pageserver/v1/ReadFrameReply.js';
import type { ReadFrameRequest as _xensim_pageserver_v1_ReadFrameRequest, ReadFrameRequest__Output as _xensim_pageserver_v1_ReadFrameRequest__Output } from './xensim/pageserver/v1/ReadFrameRequest.js';
import type { ReleaseFramesRequest as _xensim_pageserver_v1_ReleaseFramesRequest, ReleaseFramesRequest__Output as _xensim_pageserver_v1_ReleaseFramesRequest__Output } from './xensim/pageserver/v1/ReleaseFramesRequest.js';
import type { ReplicateFramesRequest as _xensim_pageserver_v1_ReplicateFramesRequest, ReplicateFramesRequest__Output as _xensim_pageserver_v1_ReplicateFramesRequest__Output } from './xensim/pageserver/v1/ReplicateFramesRequest.js';
import type { WriteFramesRequest as _xensim_pageserver_v1_WriteFramesRequest, WriteFramesRequest__Output as _xensim_pageserver_v1_WriteFramesRequest__Output } from './xensim/pageserver/v1/WriteFramesRequest.js';
import type { WrittenRange as _xensim_pageserver_v1_WrittenRange, WrittenRange__Output as _xensim_pageserver_v1_WrittenRange__Output } from './xensim/pageserver/v1/WrittenRange.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    pageserver: {
      v1: {
        AllocFramesReply: MessageTypeDefinition<_xensim_pageserver_v1_AllocFramesReply, _xensim_pageserver_v1_AllocFramesReply__Output>
        AllocFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_AllocFramesRequest, _xensim_pageserver_v1_AllocFramesRequest__Output>
        FenceRef: MessageTypeDefinition<_xensim_pageserver_v1_FenceRef, _xensim_pageserver_v1_FenceRef__Output>
        FenceReply: MessageTypeDefinition<_xensim_pageserver_v1_FenceReply, _xensim_pageserver_v1_FenceReply__Output>
        FenceRequest: MessageTypeDefinition<_xensim_pageserver_v1_FenceRequest, _xensim_pageserver_v1_FenceRequest__Output>
        FenceStatus: MessageTypeDefinition<_xensim_pageserver_v1_FenceStatus, _xensim_pageserver_v1_FenceStatus__Output>
        FetchBatchesReply: MessageTypeDefinition<_xensim_pageserver_v1_FetchBatchesReply, _xensim_pageserver_v1_FetchBatchesReply__Output>
        FetchBatchesRequest: MessageTypeDefinition<_xensim_pageserver_v1_FetchBatchesRequest, _xensim_pageserver_v1_FetchBatchesRequest__Output>
        FrameWrite: MessageTypeDefinition<_xensim_pageserver_v1_FrameWrite, _xensim_pageserver_v1_FrameWrite__Output>
        ImportFramesReply: MessageTypeDefinition<_xensim_pageserver_v1_ImportFramesReply, _xensim_pageserver_v1_ImportFramesReply__Output>
        ImportFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_ImportFramesRequest, _xensim_pageserver_v1_ImportFramesRequest__Output>
        PageServer: SubtypeConstructor<typeof grpc.Client, _xensim_pageserver_v1_PageServerClient> & { service: _xensim_pageserver_v1_PageServerDefinition }
        PublishRequest: MessageTypeDefinition<_xensim_pageserver_v1_PublishRequest, _xensim_pageserver_v1_PublishRequest__Output>
        ReadFrameReply: MessageTypeDefinition<_xensim_pageserver_v1_ReadFrameReply, _xensim_pageserver_v1_ReadFrameReply__Output>
        ReadFrameRequest: MessageTypeDefinition<_xensim_pageserver_v1_ReadFrameRequest, _xensim_pageserver_v1_ReadFrameRequest__Output>
        ReleaseFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_ReleaseFramesRequest, _xensim_pageserver_v1_ReleaseFramesRequest__Output>
        ReplicateFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_ReplicateFramesRequest, _xensim_pageserver_v1_ReplicateFramesRequest__Output>
        WriteFramesRequest: MessageTypeDefinition<_xensim_pageserver_v1_WriteFramesRequest, _xensim_pageserver_v1_WriteFramesRequest__Output>
        WrittenRange: MessageTypeDefinition<_xensim_pageserver_v1_WrittenRange, _xensim_pageserver_v1_WrittenRange__Output>
      }
    }
  }
}

