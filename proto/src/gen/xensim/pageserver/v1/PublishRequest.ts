// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { WrittenRange as _xensim_pageserver_v1_WrittenRange, WrittenRange__Output as _xensim_pageserver_v1_WrittenRange__Output } from '../../../xensim/pageserver/v1/WrittenRange.js';

export interface PublishRequest {
  'ranges'?: (_xensim_pageserver_v1_WrittenRange)[];
  'barrier'?: (boolean);
}

export interface PublishRequest__Output {
  'ranges': (_xensim_pageserver_v1_WrittenRange__Output)[];
  'barrier': (boolean);
}
