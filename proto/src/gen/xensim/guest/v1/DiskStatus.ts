// Original file: proto/xensim/guest/v1/guest.proto

import type { Long } from '@grpc/proto-loader';

export interface DiskStatus {
  'vdev'?: (string);
  'devid'?: (number);
  'state'?: (string);
  'ringPages'?: (number);
  'queues'?: (number);
  'persistent'?: (boolean);
  'indirectSegments'?: (number);
  'sectors'?: (number | string | Long);
  'readonly'?: (boolean);
  'nbdUri'?: (string);
}

export interface DiskStatus__Output {
  'vdev': (string);
  'devid': (number);
  'state': (string);
  'ringPages': (number);
  'queues': (number);
  'persistent': (boolean);
  'indirectSegments': (number);
  'sectors': (string);
  'readonly': (boolean);
  'nbdUri': (string);
}
