// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface StartRequest {
  'domid'?: (number);
  'name'?: (string);
  'role'?: (string);
  'vcpus'?: (number);
  'restorePath'?: (string);
}

export interface StartRequest__Output {
  'domid': (number);
  'name': (string);
  'role': (string);
  'vcpus': (number);
  'restorePath': (string);
}
