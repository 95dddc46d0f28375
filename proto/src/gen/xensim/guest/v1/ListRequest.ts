// Original file: proto/xensim/guest/v1/guest.proto


export interface ListRequest {
}

export interface ListRequest__Output {
}
