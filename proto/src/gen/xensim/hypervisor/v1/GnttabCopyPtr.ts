// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GnttabCopyPtr {
  'ref'?: (number);
  'gmfn'?: (number | string | Long);
  'domid'?: (number);
  'offset'?: (number);
}

export interface GnttabCopyPtr__Output {
  'ref': (number);
  'gmfn': (string);
  'domid': (number);
  'offset': (number);
}
