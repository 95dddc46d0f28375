// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface FetchBatchesReply {
  'batches'?: (Buffer | Uint8Array | string)[];
  'snapshot'?: (Buffer | Uint8Array | string);
  'published'?: (Buffer | Uint8Array | string)[];
}

export interface FetchBatchesReply__Output {
  'batches': (Buffer)[];
  'snapshot': (Buffer);
  'published': (Buffer)[];
}
