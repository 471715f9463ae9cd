// The ingest role's end of the pipeline: instead of the store, normalized events go to JetStream, each to the
// partition of its entity. `append` resolves once JetStream acknowledged every message (stored on a quorum of
// replicas), so an input's acknowledgement still means "durable", as in single-process mode.
import type { EcsEvent } from '../core/event.js';
import type { EventSink } from '../pipeline/pipeline.js';
import type { AppendOptions, AppendResult } from '../store/types.js';
import { chunkSerialized, rawEventsBody } from './codec.js';
import { SUBJECTS, type Bus } from './connection.js';
import { partitionOf } from './partition.js';

export class BusSink implements EventSink {
  /** Messages and events published (for telemetry and the benchmark). */
  readonly published = { messages: 0, events: 0 };

  constructor(private readonly bus: Bus) {}

  async append(events: readonly EcsEvent[], options?: AppendOptions): Promise<AppendResult> {
    const partitions = this.bus.config.partitions;
    const given = options?.unique && options.unique.length > 0 ? new Set(options.unique) : undefined;
    const byPartition = new Map<number, { ids: string[]; json: string[]; unique: Set<number> }>();
    events.forEach((event, i) => {
      const p = partitionOf(event, partitions);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = { ids: [], json: [], unique: new Set() }));
      if (given?.has(i)) list.unique.add(list.json.length);
      list.ids.push(event.event.id);
      list.json.push(JSON.stringify(event));
    });
    const max = this.bus.maxMessageBytes;
    const sends: Promise<unknown>[] = [];
    for (const [p, list] of byPartition) {
      let offset = 0;
      for (const chunk of chunkSerialized(list.json, max)) {
        // Ids are unique (made here, or the sender's), so first, count and last name the message: a retry of it
        // within JetStream's duplicate window is dropped there.
        const msgID = `${list.ids[offset]}.${chunk.length}.${list.ids[offset + chunk.length - 1]}`;
        const unique: number[] = [];
        for (let k = 0; k < chunk.length; k++) if (list.unique.has(offset + k)) unique.push(k);
        offset += chunk.length;
        sends.push(this.bus.publish(SUBJECTS.raw(p), rawEventsBody(chunk, unique), msgID));
        this.published.messages++;
      }
    }
    await Promise.all(sends);
    this.published.events += events.length;
    // Duplicates of sender-chosen ids are found by the store role (the positions travel as `u`), not here.
    return { stored: events.length, duplicates: [] };
  }
}
