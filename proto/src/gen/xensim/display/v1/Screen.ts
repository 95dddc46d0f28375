// Original file: proto/xensim/display/v1/display.proto

import type { Long } from '@grpc/proto-loader';

export interface Screen {
  'domid'?: (number);
  'devid'?: (string);
  'connector'?: (number);
  'uniqueId'?: (string);
  'width'?: (number);
  'height'?: (number);
  'frames'?: (number | string | Long);
  'lastFlipMs'?: (number | string);
}

export interface Screen__Output {
  'domid': (number);
  'devid': (string);
  'connector': (number);
  'uniqueId': (string);
  'width': (number);
  'height': (number);
  'frames': (string);
  'lastFlipMs': (number);
}
