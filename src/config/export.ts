// Configuration of export to Elasticsearch and OpenSearch clusters (`export`): one entry per cluster.
import { z } from 'zod';
import { secretShape } from './secrets.js';

export const exportTargetSchema = z
  .strictObject({
    /** `vigil export NAME` and health refer to it by this. */
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
    /** Which official client speaks to it. */
    kind: z.enum(['elasticsearch', 'opensearch']).default('elasticsearch'),
    /** One or more node URLs of the cluster. */
    urls: z.array(z.string().url()).min(1),
    username: z.string().optional(),
    ...secretShape('password'),
    /** Elasticsearch API key (the base64 `id:key` form). */
    ...secretShape('api_key'),
    /** Daily indices: `%{+yyyy.MM.dd}` is the event's UTC day (also `yyyy`, `MM`, `dd`, `HH`). */
    index: z.string().default('vigil-events-%{+yyyy.MM.dd}'),
    /** A data stream instead of indices (e.g. `logs-vigil-default`): documents are sent with `create`. */
    data_stream: z.string().optional(),
    /** Alerts go here, one document per alert updated in place; empty: alerts are not exported. */
    alerts_index: z.string().default('vigil-alerts'),
    /** Export events as they are stored (otherwise only `vigil export` sends). */
    live: z.boolean().default(true),
    batch_size: z.number().int().min(1).max(50_000).default(1000),
    flush_interval_ms: z.number().int().min(10).default(1000),
    /** Attempts for a batch or a document refused with 429/5xx before it goes to the dead-letter file. */
    max_retries: z.number().int().min(0).default(5),
    /** Events waiting; beyond this the exporter falls behind and later reads them back from the store. */
    max_queue_events: z.number().int().min(100).default(50_000),
    /** Documents the cluster rejects, one JSON line each with the reason. Default `DATA_DIR/export-NAME.dead-letter.ndjson`. */
    dead_letter_path: z.string().optional(),
    request_timeout_ms: z.number().int().min(100).default(30_000),
    /** PEM CA file for a cluster with a private certificate. */
    ca: z.string().optional(),
  })
  .refine((t) => !(t.password || t.password_env || t.password_file) || t.username !== undefined, { message: 'a password needs a username' });

export const exportSchema = z.array(exportTargetSchema).default([]);

export type ExportTargetConfig = z.infer<typeof exportTargetSchema>;
