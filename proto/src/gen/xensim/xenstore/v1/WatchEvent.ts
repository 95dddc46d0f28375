// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface WatchEvent {
  'path'?: (string);
  'token'?: (string);
}

export interface WatchEvent__Output {
  'path': (string);
  'token': (string);
}
