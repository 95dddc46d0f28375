// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface ImportFramesRequest {
  'fromHost'?: (string);
  'frames'?: (number)[];
  'writable'?: (boolean);
}

export interface ImportFramesRequest__Output {
  'fromHost': (string);
  'frames': (number)[];
  'writable': (boolean);
}
