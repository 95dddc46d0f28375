// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface EvtchnWake {
  'domid'?: (number);
  'vcpu'?: (number);
  'port'?: (number);
  'fenceHost'?: (string);
  'fenceSeq'?: (number | string | Long);
}

export interface EvtchnWake__Output {
  'domid': (number);
  'vcpu': (number);
  'port': (number);
  'fenceHost': (string);
  'fenceSeq': (string);
}
