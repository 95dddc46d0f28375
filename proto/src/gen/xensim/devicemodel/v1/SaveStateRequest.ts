// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface SaveStateRequest {
  'domid'?: (number);
  'role'?: (string);
  'path'?: (string);
}

export interface SaveStateRequest__Output {
  'domid': (number);
  'role': (string);
  'path': (string);
}
