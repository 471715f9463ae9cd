// Configuration of the bus (`bus`): NATS servers with JetStream over which Vigil's stages run as separate processes
// (`vigil start --role …`, src/pipeline/roles.ts). `bus: nats://a:4222,nats://b:4222` is short for `servers`.
import { z } from 'zod';

const natsUrl = z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, 'must be a NATS URL such as nats://127.0.0.1:4222');

export const busObjectSchema = z.strictObject({
  /** NATS servers (any node of the cluster will do; the client learns the others). */
  servers: z.array(natsUrl).min(1),
  /** Copies JetStream keeps of every stream: 1 for one server, 3 for a cluster that survives losing a node. */
  replicas: z.number().int().min(1).max(5).default(1),
  /**
   * Partitions events are spread over by entity (source IP, else user, else host). Analyze workers share them out,
   * so more partitions than workers; every process of one deployment must use the same number.
   */
  partitions: z.number().int().min(1).max(1024).default(16),
  /** A worker that has not renewed its claim on a partition this long is presumed dead; another takes over. */
  lease_seconds: z.number().min(1).max(300).default(10),
  /**
   * On taking a partition over, a worker re-reads this much of it before the last checkpoint to rebuild the
   * correlation windows (without raising anything twice). Windows longer than this start empty after a takeover.
   */
  replay_minutes: z.number().min(0).default(60),
  /** Events stay in the bus this long (must be above `replay_minutes`); analyzed ones until stored. */
  max_age_hours: z.number().min(1).default(24),
  /** How long a publish may be retried (a leader election takes seconds) before the sender is told to retry. */
  publish_timeout_seconds: z.number().min(1).default(30),
});

export const busSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { servers: value.split(',').map((s) => s.trim()).filter((s) => s !== '') } : value),
  busObjectSchema.optional(),
);

export type BusConfig = z.infer<typeof busObjectSchema>;
