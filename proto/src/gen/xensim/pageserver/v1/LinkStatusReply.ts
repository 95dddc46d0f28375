// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { LinkPeer as _xensim_pageserver_v1_LinkPeer, LinkPeer__Output as _xensim_pageserver_v1_LinkPeer__Output } from '../../../xensim/pageserver/v1/LinkPeer.js';
import type { Long } from '@grpc/proto-loader';

export interface LinkStatusReply {
  'host'?: (string);
  'epoch'?: (string);
  'tcp'?: (string);
  'unix'?: (string);
  'peers'?: (_xensim_pageserver_v1_LinkPeer)[];
  'stats'?: ({[key: string]: number | string | Long});
}

export interface LinkStatusReply__Output {
  'host': (string);
  'epoch': (string);
  'tcp': (string);
  'unix': (string);
  'peers': (_xensim_pageserver_v1_LinkPeer__Output)[];
  'stats': ({[key: string]: string});
}
