// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface DmRc {
  'rc'?: (number);
  'error'?: (string);
}

export interface DmRc__Output {
  'rc': (number);
  'error': (string);
}
