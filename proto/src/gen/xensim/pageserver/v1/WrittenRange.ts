// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface WrittenRange {
  'frame'?: (number);
  'offset'?: (number);
  'length'?: (number);
}

export interface WrittenRange__Output {
  'frame': (number);
  'offset': (number);
  'length': (number);
}
