// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface ReadFrameReply {
  'data'?: (Buffer | Uint8Array | string)[];
  'localFrames'?: (number)[];
}

export interface ReadFrameReply__Output {
  'data': (Buffer)[];
  'localFrames': (number)[];
}
