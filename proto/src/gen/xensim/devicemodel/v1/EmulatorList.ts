// Original file: proto/xensim/devicemodel/v1/devicemodel.proto

import type { EmulatorInfo as _xensim_devicemodel_v1_EmulatorInfo, EmulatorInfo__Output as _xensim_devicemodel_v1_EmulatorInfo__Output } from '../../../xensim/devicemodel/v1/EmulatorInfo.js';

export interface EmulatorList {
  'emulators'?: (_xensim_devicemodel_v1_EmulatorInfo)[];
}

export interface EmulatorList__Output {
  'emulators': (_xensim_devicemodel_v1_EmulatorInfo__Output)[];
}
