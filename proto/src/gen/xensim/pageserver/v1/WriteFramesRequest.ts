// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { FrameWrite as _xensim_pageserver_v1_FrameWrite, FrameWrite__Output as _xensim_pageserver_v1_FrameWrite__Output } from '../../../xensim/pageserver/v1/FrameWrite.js';

export interface WriteFramesRequest {
  'writes'?: (_xensim_pageserver_v1_FrameWrite)[];
  'caller'?: (number);
}

export interface WriteFramesRequest__Output {
  'writes': (_xensim_pageserver_v1_FrameWrite__Output)[];
  'caller': (number);
}
