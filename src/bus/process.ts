// A Vigil process of a bus deployment as it announces itself (bus/presence.ts) and the api role's health lists it:
// types only, so the dashboard's code can import them too.

export interface ProcessEntry {
  id: string;
  roles: string[];
  host: string;
  pid: number;
  version: string;
  /** Its HTTP API, if it has one. */
  url: string | null;
  started_at: string;
  seen_at: string;
  /** What the process says of its work (worker id and partitions, events stored …). */
  details?: Record<string, unknown>;
}
