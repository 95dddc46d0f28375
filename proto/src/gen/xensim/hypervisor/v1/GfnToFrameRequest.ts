// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GfnToFrameRequest {
  'caller'?: (number);
  'domid'?: (number);
  'gfns'?: (number | string | Long)[];
}

export interface GfnToFrameRequest__Output {
  'caller': (number);
  'domid': (number);
  'gfns': (string)[];
}
