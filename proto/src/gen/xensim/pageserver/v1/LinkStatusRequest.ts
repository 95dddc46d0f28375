// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface LinkStatusRequest {
}

export interface LinkStatusRequest__Output {
}
