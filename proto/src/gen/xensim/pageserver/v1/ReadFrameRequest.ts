// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface ReadFrameRequest {
  'host'?: (string);
  'frames'?: (number)[];
}

export interface ReadFrameRequest__Output {
  'host': (string);
  'frames': (number)[];
}
