// What the notifier needs from a channel: queue a message for delivery, report, stop.
import type { DeliveryStats } from './delivery.js';
import type { Message } from './notice.js';

export interface Channel {
  readonly name: string;
  readonly type: 'slack' | 'webhook' | 'email';
  /** Queues the message; false when the channel's queue is full (counted as dropped). */
  send(message: Message): boolean;
  stats(): DeliveryStats;
  /** Resolves when nothing is waiting (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
