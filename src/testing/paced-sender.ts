// A sender in its own process for crash tests: posts NDJSON batches to /api/v1/events at a steady rate and appends
// the id of every event acknowledged with a 2xx to a file. Half the batches carry ids chosen here and are retried until
// acknowledged, through a dead and restarted server (the server must store a retried batch once); the other half
// leave the ids to the server and are not retried (an unanswered batch may or may not be stored, as for any client).
//   node --import tsx src/testing/paced-sender.ts --url URL --token T --acked FILE [--rate 5000] [--total N]
//        [--batch 50] [--run LABEL] [--concurrency 32]
// Prints `acked N` lines as it goes and `done sent=… acked=… seconds=…` at the end; exits 0 once every batch with
// its own ids was acknowledged.
import { appendFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    acked: { type: 'string' },
    rate: { type: 'string', default: '5000' },
    total: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '50' },
    run: { type: 'string', default: 'crash' },
    concurrency: { type: 'string', default: '32' },
  },
});
if (!values.url || !values.token || !values.acked) {
  console.error('usage: paced-sender --url URL --token TOKEN --acked FILE [--rate N] [--total N] [--batch N] [--run LABEL]');
  process.exit(2);
}
const url = `${values.url.replace(/\/$/, '')}/api/v1/events`;
const token = values.token;
const ackedFile = values.acked;
const rate = Number(values.rate);
const total = Number(values.total);
const batchSize = Number(values.batch);
const run = values.run;
const concurrency = Number(values.concurrency);
const batches = Math.ceil(total / batchSize);
writeFileSync(ackedFile, '');

let acked = 0;
let failures = 0;
const started = performance.now();

function body(batch: number, ownIds: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < batchSize && batch * batchSize + i < total; i++) {
    const n = batch * batchSize + i;
    const doc: Record<string, unknown> = { message: `crash ${run} ${n}`, labels: { run, seq: String(n) }, event: ownIds ? { id: `${run}-${n}`, dataset: 'crash.test' } : { dataset: 'crash.test' } };
    lines.push(JSON.stringify(doc));
  }
  return lines.join('\n');
}

/** Sends one batch; answers the acknowledged ids, or undefined when there was no 2xx answer. */
async function post(text: string): Promise<string[] | undefined> {
  try {
    const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body: text, signal: AbortSignal.timeout(30_000) });
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel();
      return undefined;
    }
    return ((await response.json()) as { ids: string[] }).ids;
  } catch {
    return undefined; // refused, reset or timed out: the server is down or dying
  }
}

async function send(batch: number): Promise<void> {
  const ownIds = batch % 2 === 0;
  const text = body(batch, ownIds);
  for (let attempt = 0; ; attempt++) {
    const ids = await post(text);
    if (ids) {
      appendFileSync(ackedFile, ids.join('\n') + '\n');
      acked += ids.length;
      return;
    }
    failures++;
    if (!ownIds) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
  }
}

const inFlightSet = new Set<Promise<void>>();
const all: Promise<void>[] = [];
let lastReport = 0;
for (let batch = 0; batch < batches; batch++) {
  // Paced: batch k leaves at k * batchSize / rate seconds, never more than `concurrency` at once.
  const due = started + (batch * batchSize * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  while (inFlightSet.size >= concurrency) await Promise.race(inFlightSet);
  const p: Promise<void> = send(batch).finally(() => inFlightSet.delete(p));
  inFlightSet.add(p);
  all.push(p);
  if (acked - lastReport >= 1000) {
    lastReport = acked;
    console.log(`acked ${acked}`);
  }
}
await Promise.all(all);
const seconds = (performance.now() - started) / 1000;
console.log(`acked ${acked}`);
console.log(`done sent=${total} acked=${acked} failures=${failures} seconds=${seconds.toFixed(2)}`);
