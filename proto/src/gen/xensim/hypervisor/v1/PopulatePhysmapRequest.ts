// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface PopulatePhysmapRequest {
  'caller'?: (number);
  'domid'?: (number);
  'gfn'?: (number | string | Long);
  'count'?: (number);
  'contiguous'?: (boolean);
}

export interface PopulatePhysmapRequest__Output {
  'caller': (number);
  'domid': (number);
  'gfn': (string);
  'count': (number);
  'contiguous': (boolean);
}
