// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { FenceRef as _xensim_pageserver_v1_FenceRef, FenceRef__Output as _xensim_pageserver_v1_FenceRef__Output } from '../../../xensim/pageserver/v1/FenceRef.js';

export interface ImportFramesReply {
  'localFrames'?: (number)[];
  'fence'?: (_xensim_pageserver_v1_FenceRef | null);
}

export interface ImportFramesReply__Output {
  'localFrames': (number)[];
  'fence': (_xensim_pageserver_v1_FenceRef__Output | null);
}
