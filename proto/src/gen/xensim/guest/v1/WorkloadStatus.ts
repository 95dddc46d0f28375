// Original file: proto/xensim/guest/v1/guest.proto

import type { Long } from '@grpc/proto-loader';

export interface WorkloadStatus {
  'job'?: (string);
  'phase'?: (string);
  'iops'?: (number | string);
  'ios'?: (number | string | Long);
  'errors'?: (number | string | Long);
  'verifyFailures'?: (number | string | Long);
}

export interface WorkloadStatus__Output {
  'job': (string);
  'phase': (string);
  'iops': (number);
  'ios': (string);
  'errors': (string);
  'verifyFailures': (string);
}
