// Original file: proto/xensim/hypervisor/v1/dmop.proto

import type { Long } from '@grpc/proto-loader';

export interface AcquireResourceRequest {
  'caller'?: (number);
  'domid'?: (number);
  'type'?: (number);
  'id'?: (number);
  'frame'?: (number | string | Long);
  'nrFrames'?: (number);
}

export interface AcquireResourceRequest__Output {
  'caller': (number);
  'domid': (number);
  'type': (number);
  'id': (number);
  'frame': (string);
  'nrFrames': (number);
}
