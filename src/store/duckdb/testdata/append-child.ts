// Child process for the crash test: appends one batch, prints a marker once append() resolved, then keeps appending
// until the parent kills it with SIGKILL. Usage: node --import tsx append-child.ts DIR
import { openDuckDbStore } from '../store.js';
import { bulkEvents } from '../../testdata/events.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: append-child.ts DIR');
const store = await openDuckDbStore({ dir, threads: 1 });
const start = Date.parse('2024-05-01T00:00:00Z');
await store.append(bulkEvents(500, start, 'acked'));
process.stdout.write('APPENDED\n');
// Keep writing so the kill may land in the middle of a later append; those batches must be all-or-nothing.
for (let batch = 0; ; batch++) {
  await store.append(bulkEvents(500, start + (batch + 1) * 1_000_000, `more${batch}`));
}
