// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface ReplicateFramesRequest {
  'peer'?: (string);
  'frames'?: (number)[];
}

export interface ReplicateFramesRequest__Output {
  'peer': (string);
  'frames': (number)[];
}
