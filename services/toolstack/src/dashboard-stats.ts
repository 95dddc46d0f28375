// What the dashboard shows of the block path, derived from the services' metrics (collected over the
// bus): per disk IOPS, MB/s, mean completion latency, ring occupancy and event-channel traffic, as
// rates between two scrapes. Pure: metric snapshots in, figures out.
import { blkifRingSize } from "@xensim/abi";
import type { ServiceMetrics } from "@xensim/runtime";

/** Counters and gauges of one disk (a blkback device: frontend domid + devid), summed over its queues. */
export interface DiskCounters {
  domid: number;
  devid: number;
  /** Host process of the blkback serving it. */
  host: string;
  queues: number;
  outstanding: number;
  requests: number;
  completed: number;
  errors: number;
  notificationsSent: number;
  notificationsSuppressed: number;
  eventsReceived: number;
  readSectors: number;
  writeSectors: number;
  latencySumSeconds: number;
  latencyCount: number;
  /** Cumulative histogram buckets of the completion latency: upper bound (s) → count. */
  latencyBuckets: Map<number, number>;
}

/** One disk's figures over the interval between two scrapes. */
export interface DiskFigures {
  domid: number;
  devid: number;
  host: string;
  queues: number;
  iops: number;
  readMBps: number;
  writeMBps: number;
  /** Mean completion latency (consume → response) over the interval, ms; null without completions. */
  latencyMeanMs: number | null;
  /** The bucket bound under which 99% of the interval's completions fell, ms; null without completions. */
  latencyP99Ms: number | null;
  /** Requests consumed and not answered, now, over every queue. */
  outstanding: number;
  /** outstanding ÷ (ring slots × queues), when the ring size is known. */
  occupancy: number | null;
  ringSlots: number | null;
  /** Responses pushed with an event, without one (the frontend was not waiting), and kicks received, per second. */
  notificationsSentPerS: number;
  notificationsSuppressedPerS: number;
  eventsReceivedPerS: number;
  errorsPerS: number;
}

const num = (labels: Record<string, string | number>, key: string): number => Number(labels[key]);

/** The per-disk counters of every blkback in the scrape. */
export function diskCounters(scrape: readonly ServiceMetrics[]): Map<string, DiskCounters> {
  const disks = new Map<string, DiskCounters>();
  const queuesSeen = new Map<string, Set<string>>();
  for (const svc of scrape) {
    if (svc.svc !== "blkback") continue;
    for (const metric of svc.metrics) {
      for (const v of metric.values) {
        const labels = v.labels as Record<string, string | number>;
        if (labels.domid === undefined || labels.devid === undefined) continue;
        const domid = num(labels, "domid");
        const devid = num(labels, "devid");
        const key = `${domid}/${devid}`;
        let d = disks.get(key);
        if (!d) {
          d = {
            domid,
            devid,
            host: svc.host,
            queues: 0,
            outstanding: 0,
            requests: 0,
            completed: 0,
            errors: 0,
            notificationsSent: 0,
            notificationsSuppressed: 0,
            eventsReceived: 0,
            readSectors: 0,
            writeSectors: 0,
            latencySumSeconds: 0,
            latencyCount: 0,
            latencyBuckets: new Map(),
          };
          disks.set(key, d);
          queuesSeen.set(key, new Set());
        }
        if (labels.queue !== undefined) queuesSeen.get(key)!.add(String(labels.queue));
        const value = Number(v.value);
        const name = (v as { metricName?: string }).metricName ?? metric.name;
        switch (name) {
          case "blkback_ring_outstanding_requests":
            d.outstanding += value;
            break;
          case "blkback_requests_total":
            d.requests += value;
            break;
          case "blkback_io_completed_total":
            d.completed += value;
            break;
          case "blkback_io_errors_total":
            d.errors += value;
            break;
          case "blkback_notifications_sent_total":
            d.notificationsSent += value;
            break;
          case "blkback_notifications_suppressed_total":
            d.notificationsSuppressed += value;
            break;
          case "blkback_events_received_total":
            d.eventsReceived += value;
            break;
          case "blkback_read_sectors_total":
            d.readSectors += value;
            break;
          case "blkback_write_sectors_total":
            d.writeSectors += value;
            break;
          case "blkback_io_latency_seconds_sum":
            d.latencySumSeconds += value;
            break;
          case "blkback_io_latency_seconds_count":
            d.latencyCount += value;
            break;
          case "blkback_io_latency_seconds_bucket": {
            const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
            d.latencyBuckets.set(le, (d.latencyBuckets.get(le) ?? 0) + value);
            break;
          }
        }
      }
    }
  }
  for (const [key, d] of disks) d.queues = queuesSeen.get(key)!.size;
  return disks;
}

/**
 * Figures of every disk in `cur`, as rates since `prev` (`seconds` apart). `ringPages` gives a
 * disk's negotiated ring size in pages (from the guest's status), for the occupancy.
 */
export function diskFigures(
  prev: ReadonlyMap<string, DiskCounters> | undefined,
  cur: ReadonlyMap<string, DiskCounters>,
  seconds: number,
  ringPages: (domid: number, devid: number) => number | undefined,
): DiskFigures[] {
  const out: DiskFigures[] = [];
  const per = (a: number, b: number | undefined) =>
    b === undefined || seconds <= 0 ? 0 : Math.max(0, (a - b) / seconds);
  for (const [key, c] of cur) {
    const p = prev?.get(key);
    const completions = p ? c.latencyCount - p.latencyCount : 0;
    const pages = ringPages(c.domid, c.devid);
    const slots = pages ? blkifRingSize(pages) : null;
    let p99: number | null = null;
    if (p && completions > 0) {
      const bounds = [...c.latencyBuckets.keys()].sort((a, b) => a - b);
      for (const le of bounds) {
        const inBucket = (c.latencyBuckets.get(le) ?? 0) - (p.latencyBuckets.get(le) ?? 0);
        if (inBucket >= 0.99 * completions) {
          p99 = Number.isFinite(le) ? le * 1000 : null;
          break;
        }
      }
    }
    out.push({
      domid: c.domid,
      devid: c.devid,
      host: c.host,
      queues: c.queues,
      iops: per(c.completed, p?.completed),
      readMBps: (per(c.readSectors, p?.readSectors) * 512) / 1e6,
      writeMBps: (per(c.writeSectors, p?.writeSectors) * 512) / 1e6,
      latencyMeanMs:
        p && completions > 0 ? ((c.latencySumSeconds - p.latencySumSeconds) / completions) * 1000 : null,
      latencyP99Ms: p99,
      outstanding: c.outstanding,
      occupancy: slots && c.queues > 0 ? c.outstanding / (slots * c.queues) : null,
      ringSlots: slots,
      notificationsSentPerS: per(c.notificationsSent, p?.notificationsSent),
      notificationsSuppressedPerS: per(c.notificationsSuppressed, p?.notificationsSuppressed),
      eventsReceivedPerS: per(c.eventsReceived, p?.eventsReceived),
      errorsPerS: per(c.errors, p?.errors),
    });
  }
  return out.sort((a, b) => a.domid - b.domid || a.devid - b.devid);
}
