// What Vigil knows of each host that reports to it (GET /api/v1/hosts): shared by the host registry and the dashboard.

export interface HostMetrics {
  /** When the figures were measured (`@timestamp` of the sample). */
  updated: string;
  /** ECS host.cpu.usage: 0..1 over all cores. */
  cpu_usage?: number;
  load?: { '1'?: number; '5'?: number; '15'?: number };
  /** system.memory.actual.used.pct: 0..1, what cannot be reclaimed without swapping. */
  memory_used_pct?: number;
  memory_total_bytes?: number;
  swap_used_pct?: number;
}

export interface HostSummary {
  name: string;
  /** When Vigil last received anything from it (`event.ingested`). */
  last_seen: string;
  /** Events received since this server started (seeded hosts start at 0). */
  events: number;
  /** Whether it sends collector data (`host.*` datasets); only those can be stale. */
  collector: boolean;
  /** Its metrics interval (`metricset.period`), when known. */
  interval_seconds: number | null;
  /** No collector data for `stale_after_intervals` intervals; null for hosts that only send logs (silence is normal there). */
  stale: boolean | null;
  /** When the last collector data arrived. */
  last_collected: string | null;
  os?: Record<string, unknown>;
  agent?: Record<string, unknown>;
  /** The latest status a remote agent reported about itself: its collectors' health, its buffer, its sender. */
  agent_status?: Record<string, unknown>;
  metrics: HostMetrics | null;
  /** Latest usage of each filesystem: mount point → used share (0..1). */
  filesystems: Record<string, { used_pct: number; total_bytes?: number; updated: string }>;
  network: { in_bytes_per_sec: number; out_bytes_per_sec: number; updated: string } | null;
}
