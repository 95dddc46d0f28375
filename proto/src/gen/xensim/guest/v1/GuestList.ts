// Original file: proto/xensim/guest/v1/guest.proto

import type { GuestStatus as _xensim_guest_v1_GuestStatus, GuestStatus__Output as _xensim_guest_v1_GuestStatus__Output } from '../../../xensim/guest/v1/GuestStatus.js';

export interface GuestList {
  'guests'?: (_xensim_guest_v1_GuestStatus)[];
}

export interface GuestList__Output {
  'guests': (_xensim_guest_v1_GuestStatus__Output)[];
}
