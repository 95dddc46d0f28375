// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface FrameWrite {
  'frame'?: (number);
  'offset'?: (number);
  'data'?: (Buffer | Uint8Array | string);
}

export interface FrameWrite__Output {
  'frame': (number);
  'offset': (number);
  'data': (Buffer);
}
