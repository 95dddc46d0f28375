// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface StartReply {
  'rc'?: (number);
  'error'?: (string);
  'serverId'?: (number);
}

export interface StartReply__Output {
  'rc': (number);
  'error': (string);
  'serverId': (number);
}
