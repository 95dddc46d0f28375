// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface EvtchnConsumePendingReply {
  'rc'?: (number);
  'ports'?: (number)[];
  'fenceHost'?: (string);
  'fenceSeq'?: (number | string | Long);
}

export interface EvtchnConsumePendingReply__Output {
  'rc': (number);
  'ports': (number)[];
  'fenceHost': (string);
  'fenceSeq': (string);
}
