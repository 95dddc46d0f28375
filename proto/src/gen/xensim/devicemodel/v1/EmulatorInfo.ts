// Original file: proto/xensim/devicemodel/v1/devicemodel.proto

import type { Long } from '@grpc/proto-loader';

export interface EmulatorInfo {
  'domid'?: (number);
  'role'?: (string);
  'name'?: (string);
  'serverId'?: (number);
  'ports'?: (number)[];
  'synchronous'?: (number | string | Long);
  'buffered'?: (number | string | Long);
  'pciConfig'?: (number | string | Long);
  'unhandled'?: (number | string | Long);
  'serials'?: (number)[];
  'framebufferHash'?: (string);
  'service'?: (string);
}

export interface EmulatorInfo__Output {
  'domid': (number);
  'role': (string);
  'name': (string);
  'serverId': (number);
  'ports': (number)[];
  'synchronous': (string);
  'buffered': (string);
  'pciConfig': (string);
  'unhandled': (string);
  'serials': (number)[];
  'framebufferHash': (string);
  'service': (string);
}
