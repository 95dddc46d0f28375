// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface EmulatorRef {
  'domid'?: (number);
  'role'?: (string);
}

export interface EmulatorRef__Output {
  'domid': (number);
  'role': (string);
}
