// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GnttabGrantAccessRequest {
  'caller'?: (number);
  'ref'?: (number);
  'domid'?: (number);
  'gfn'?: (number | string | Long);
  'readonly'?: (boolean);
}

export interface GnttabGrantAccessRequest__Output {
  'caller': (number);
  'ref': (number);
  'domid': (number);
  'gfn': (string);
  'readonly': (boolean);
}
