// The JSON a guest runtime reports about a guest: the body of the bus event guest.<domid>.status
// (@xensim/subjects GUEST_SUBJECTS) and the Guest service's List reply. It is the proto's
// xensim.guest.v1 GuestStatus in camelCase with numbers for the uint64 fields, plus what the bus
// event carries beyond the proto: blkfront's ring counters per disk, the workload's write ledger
// and, after a soft reset, what the previous kernel handed over (KexecStatusJson).
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
      /** After a kexec: blocks of the previous kernel's ledger read back intact (not rewritten since). */
      carriedVerified?: number;
    };
    /**
     * After a soft reset (kexec): what the previous kernel handed over — its write ledger (the
     * acknowledged blocks this kernel's job reads back) and the fate of the requests it had in
     * flight when it shut down (each answered once, or failed by the frontend's close).
     */
    kexec?: KexecStatusJson;
  };
  error: string;
}

export interface KexecStatusJson {
  carriedAcknowledgedBlocks: number;
  carriedIndeterminateBlocks: number;
  requestsSubmitted: number;
  requestsAnswered: number;
  requestsFailed: number;
  requestsAnsweredTwice: number;
  requestsUnanswered: number;
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
