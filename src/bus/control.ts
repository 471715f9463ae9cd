// Requests to the analyze workers over core NATS request/reply: what each holds (partitions, models, rule hits), and
// model actions (details, retrain, roll back). Workers answer on `vigil.service.analyze` (all of them) and on
// `vigil.service.analyze.<id>` (one); the store role asks on behalf of the API (`/api/v1/models`, the rules' hits).
import { hostname } from 'node:os';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { VigilError, errorMessage, isVigilError, type ErrorId } from '../core/errors.js';
import type { ModelAccess } from '../api/models/routes.js';
import type { RemoteRules } from '../api/rules/routes.js';
import type { ModelMeta } from '../detect/ml/models/model.js';
import type { Models } from '../detect/ml/models.js';
import type { AnalyzeWorker } from './analyze.js';
import { SERVICES, type Bus } from './connection.js';
import type { RuleSwitches } from './rules.js';

type ControlRequest = { op: 'status' } | { op: 'model.get'; id: string } | { op: 'model.retrain'; id: string } | { op: 'model.rollback'; id: string; version?: number };
type ControlReply<T> = { ok: true; value: T } | { ok: false; error: { id: ErrorId; message: string } };

export interface WorkerStatus {
  worker: string;
  host: string;
  partitions: number[];
  stats: Record<string, unknown>;
  models: Record<string, unknown>[];
  hits: Record<string, number>;
}

/** A training runs for seconds to minutes; the answer comes when it is done (the page follows its progress meanwhile). */
const TRAIN_TIMEOUT_MS = 10 * 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Gathering every worker's status: done when none has answered for this long after the last (or at most 3 s). */
const GATHER_STALL_MS = 300;
const GATHER_MAX_MS = 3_000;

const encode = (value: unknown): string => JSON.stringify(value);

/** The worker's side: answers the store role's requests. */
export class AnalyzeControl {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly worker: AnalyzeWorker,
    private readonly models: Models,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {
    for (const subject of [SERVICES.analyze, SERVICES.analyzeWorker(worker.id)]) {
      this.subscriptions.push(bus.nc.subscribe(subject, { callback: (err, msg) => (err ? undefined : void this.answer(msg)) }));
    }
  }

  private async answer(msg: Msg): Promise<void> {
    let reply: ControlReply<unknown>;
    try {
      const request = JSON.parse(msg.string()) as ControlRequest;
      reply = { ok: true, value: await this.run(request) };
    } catch (err) {
      reply = { ok: false, error: isVigilError(err) ? { id: err.id, message: err.message } : { id: 'internal', message: errorMessage(err).slice(0, 300) } };
    }
    try {
      msg.respond(encode(reply));
    } catch (err) {
      this.log(`vigil: analyze ${this.worker.id}: cannot answer a control request: ${errorMessage(err)}`);
    }
  }

  private async run(request: ControlRequest): Promise<unknown> {
    switch (request?.op) {
      case 'status':
        return {
          worker: this.worker.id,
          host: hostname(),
          partitions: this.worker.owned(),
          stats: { ...this.worker.stats },
          models: this.models.list(),
          hits: this.worker.ruleHits(),
        } satisfies WorkerStatus;
      case 'model.get':
        return this.models.get(String(request.id));
      case 'model.retrain':
        return await this.models.retrain(String(request.id));
      case 'model.rollback':
        return this.models.rollback(String(request.id), request.version);
      default:
        throw new VigilError('bad_request', 'unknown control request');
    }
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}

function unwrap<T>(text: string): T {
  const reply = JSON.parse(text) as ControlReply<T>;
  if (!reply.ok) throw new VigilError(reply.error.id, reply.error.message);
  return reply.value;
}

/** The store role's side: the workers' models and rule hits, for the API. */
export class AnalyzeClient implements ModelAccess, RemoteRules {
  constructor(
    private readonly bus: Bus,
    private readonly switches: RuleSwitches,
  ) {}

  /** Every worker's status (those that answer within a moment). */
  async workers(): Promise<WorkerStatus[]> {
    let replies: AsyncIterable<Msg>;
    try {
      replies = await this.bus.nc.requestMany(SERVICES.analyze, encode({ op: 'status' }), { strategy: 'stall', stall: GATHER_STALL_MS, maxWait: GATHER_MAX_MS });
    } catch {
      return []; // no worker listening
    }
    const out: WorkerStatus[] = [];
    try {
      for await (const msg of replies) {
        // An empty message with a 503 status is NATS saying that nobody listens.
        if (msg.data.length === 0) continue;
        try {
          out.push(unwrap<WorkerStatus>(msg.string()));
        } catch {
          // one worker's bad answer costs only its own entry
        }
      }
    } catch {
      // no responders, or the connection went: what arrived is the answer
    }
    return out.sort((a, b) => a.worker.localeCompare(b.worker));
  }

  private async ask<T>(worker: string, request: ControlRequest, timeout = REQUEST_TIMEOUT_MS): Promise<T> {
    let msg: Msg;
    try {
      msg = await this.bus.nc.request(SERVICES.analyzeWorker(worker), encode(request), { timeout });
    } catch (err) {
      throw new VigilError('unavailable', `analyze worker ${worker} did not answer (${errorMessage(err)}): is it running?`, { retryAfter: 5 });
    }
    return unwrap<T>(msg.string());
  }

  /** `model@worker` names one worker's model; a bare model id means every worker's. */
  private static split(id: string): { model: string; worker: string | undefined } {
    const at = id.lastIndexOf('@');
    return at > 0 ? { model: id.slice(0, at), worker: id.slice(at + 1) } : { model: id, worker: undefined };
  }

  private static named(model: Record<string, unknown>, worker: string): Record<string, unknown> {
    // The page shows one card per entry: the title says whose it is.
    return { ...model, id: `${String(model.id)}@${worker}`, title: `${String(model.title)} (analyze worker ${worker})`, detector: model.id, worker };
  }

  /** Each worker trains its own models on what its partitions see: one entry per model and worker, `model@worker`. */
  async list(): Promise<Record<string, unknown>[]> {
    return (await this.workers()).flatMap((w) => w.models.map((m) => AnalyzeClient.named(m, w.worker)));
  }

  private async holders(model: string): Promise<string[]> {
    const workers = (await this.workers()).filter((w) => w.models.some((m) => m.id === model)).map((w) => w.worker);
    if (workers.length === 0) throw new VigilError('not_found', `no analyze worker has a model "${model}" (is one running, with ml enabled?)`);
    return workers;
  }

  async get(id: string): Promise<Record<string, unknown>> {
    const { model, worker } = AnalyzeClient.split(id);
    const target = worker ?? (await this.holders(model))[0]!;
    return AnalyzeClient.named(await this.ask<Record<string, unknown>>(target, { op: 'model.get', id: model }), target);
  }

  /** Retrains one worker's model, or the model on every worker (answering with the first's new version). */
  async retrain(id: string): Promise<ModelMeta> {
    const { model, worker } = AnalyzeClient.split(id);
    const targets = worker ? [worker] : await this.holders(model);
    const metas = await Promise.all(targets.map((w) => this.ask<ModelMeta>(w, { op: 'model.retrain', id: model }, TRAIN_TIMEOUT_MS)));
    return metas[0]!;
  }

  async rollback(id: string, version?: number): Promise<ModelMeta> {
    const { model, worker } = AnalyzeClient.split(id);
    if (!worker) throw new VigilError('bad_request', `each analyze worker keeps its own versions: name one, as ${model}@WORKER (GET /api/v1/models lists them)`);
    return this.ask<ModelMeta>(worker, { op: 'model.rollback', id: model, ...(version !== undefined ? { version } : {}) });
  }

  async hits(): Promise<Record<string, number>> {
    const hits: Record<string, number> = {};
    for (const w of await this.workers()) for (const [id, n] of Object.entries(w.hits)) hits[id] = (hits[id] ?? 0) + n;
    return hits;
  }

  async set(id: string, enabled: boolean, by: string): Promise<void> {
    try {
      await this.switches.set(id, enabled, by);
    } catch (err) {
      throw new VigilError('unavailable', `the bus did not take the rule switch (${errorMessage(err)}); retry shortly`, { retryAfter: 5, cause: err });
    }
  }
}
