// The JSON a guest runtime reports about a guest: the body of the bus event guest.<domid>.status
// (@xensim/subjects GUEST_SUBJECTS) and the Guest service's List reply. It is the proto's
// xensim.guest.v1 GuestStatus in camelCase with numbers for the uint64 fields, plus what the bus
// event carries beyond the proto: blkfront's ring counters per disk and the workload's write ledger.
// One definition for the guest service that publishes it and the toolstack dashboard and the CLI
// (up, chaos run) that read it.

export type GuestState = "booting" | "running" | "shutting-down" | "halted" | "failed";
export type WorkloadPhase = "idle" | "running" | "verifying" | "done" | "failed";

/** GuestStatus of the proto (camelCase, numbers): the List reply and the bus event body. */
export interface GuestStatusJson {
  domid: number;
  name: string;
  state: GuestState;
  disks: DiskStatusJson[];
  workload: {
    job: string;
    phase: WorkloadPhase;
    iops: number;
    ios: number;
    errors: number;
    verifyFailures: number;
    /** The write ledger once the job finished (crc32c verify): what the chaos checkers judge. */
    ledger?: {
      acknowledgedBlocks: number;
      blocksChecked: number;
      lost: number;
      indeterminate: number;
      failures: unknown[];
    };
  };
  error: string;
}

export interface DiskStatusJson {
  vdev: string;
  devid: number;
  state: string;
  ringPages: number;
  queues: number;
  persistent: boolean;
  indirectSegments: number;
  sectors: number;
  readonly: boolean;
  nbdUri: string;
  /** Responses blkfront refused (unknown id, an id not in flight: a second answer, ...). */
  protocolErrors: number;
  /** blkfront's ring accounting: requests put on the ring, responses taken, requests in flight. */
  ringRequests: number;
  ringResponses: number;
  ringInFlight: number;
}
