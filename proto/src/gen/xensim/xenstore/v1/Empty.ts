// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface Empty {
}

export interface Empty__Output {
}
