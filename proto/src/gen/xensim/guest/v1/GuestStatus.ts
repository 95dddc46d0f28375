// Original file: proto/xensim/guest/v1/guest.proto

import type { DiskStatus as _xensim_guest_v1_DiskStatus, DiskStatus__Output as _xensim_guest_v1_DiskStatus__Output } from '../../../xensim/guest/v1/DiskStatus.js';
import type { WorkloadStatus as _xensim_guest_v1_WorkloadStatus, WorkloadStatus__Output as _xensim_guest_v1_WorkloadStatus__Output } from '../../../xensim/guest/v1/WorkloadStatus.js';

export interface GuestStatus {
  'domid'?: (number);
  'name'?: (string);
  'state'?: (string);
  'disks'?: (_xensim_guest_v1_DiskStatus)[];
  'workload'?: (_xensim_guest_v1_WorkloadStatus | null);
  'error'?: (string);
}

export interface GuestStatus__Output {
  'domid': (number);
  'name': (string);
  'state': (string);
  'disks': (_xensim_guest_v1_DiskStatus__Output)[];
  'workload': (_xensim_guest_v1_WorkloadStatus__Output | null);
  'error': (string);
}
