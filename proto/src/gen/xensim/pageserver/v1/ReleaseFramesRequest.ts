// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface ReleaseFramesRequest {
  'fromHost'?: (string);
  'frames'?: (number)[];
}

export interface ReleaseFramesRequest__Output {
  'fromHost': (string);
  'frames': (number)[];
}
