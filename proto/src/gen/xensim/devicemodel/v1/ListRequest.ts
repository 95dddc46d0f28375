// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface ListRequest {
}

export interface ListRequest__Output {
}
