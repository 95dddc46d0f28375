// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface AllocFramesReply {
  'frames'?: (number)[];
}

export interface AllocFramesReply__Output {
  'frames': (number)[];
}
