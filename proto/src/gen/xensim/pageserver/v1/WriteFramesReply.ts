// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface WriteFramesReply {
}

export interface WriteFramesReply__Output {
}
