// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface AllocFramesRequest {
  'count'?: (number);
  'owner'?: (number);
  'hasOwner'?: (boolean);
}

export interface AllocFramesRequest__Output {
  'count': (number);
  'owner': (number);
  'hasOwner': (boolean);
}
