import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { EchoClient as _xensim_testing_v1_EchoClient, EchoDefinition as _xensim_testing_v1_EchoDefinition } from './xensim/testing/v1/Echo.js';
import type { EchoReply as _xensim_testing_v1_EchoReply, EchoReply__Output as _xensim_testing_v1_EchoReply__Output } from './xensim/testing/v1/EchoReply.js';
import type { EchoRequest as _xensim_testing_v1_EchoRequest, EchoRequest__Output as _xensim_testing_v1_EchoRequest__Output } from './xensim/testing/v1/EchoRequest.js';
import type { FailRequest as _xensim_testing_v1_FailRequest, FailRequest__Output as _xensim_testing_v1_FailRequest__Output } from './xensim/testing/v1/FailRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    testing: {
      v1: {
        Echo: SubtypeConstructor<typeof grpc.Client, _xensim_testing_v1_EchoClient> & { service: _xensim_testing_v1_EchoDefinition }
        EchoReply: MessageTypeDefinition<_xensim_testing_v1_EchoReply, _xensim_testing_v1_EchoReply__Output>
        EchoRequest: MessageTypeDefinition<_xensim_testing_v1_EchoRequest, _xensim_testing_v1_EchoRequest__Output>
        FailRequest: MessageTypeDefinition<_xensim_testing_v1_FailRequest, _xensim_testing_v1_FailRequest__Output>
      }
    }
  }
}

