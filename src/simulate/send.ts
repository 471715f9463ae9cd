// Sends simulated traffic through Vigil's real inputs: auth messages as RFC 5424 syslog over TCP (octet counting,
// RFC 6587), access lines as text and host events as JSON to the HTTP API, the way real senders do.
import { connect } from 'node:net';
import { VigilError } from '../core/errors.js';
import type { Traffic } from './scenarios.js';

export interface Target {
  /** Base URL of the API. */
  server: string;
  token: string;
  /** Syslog TCP address. */
  syslogHost: string;
  syslogPort: number;
  /** `host.name` of the simulated machine. */
  host: string;
}

/** RFC 5424 PRI: authpriv (10) with info (6), or notice (5) for sudo, as sshd and sudo log them. */
function pri(program: string): number {
  return 10 * 8 + (program === 'sudo' ? 5 : 6);
}

export function syslogFrame(item: Traffic['syslog'][number], host: string): string {
  const message = `<${pri(item.program)}>1 ${new Date(item.at).toISOString()} ${host} ${item.program} ${item.pid} - - ${item.message}`;
  return `${Buffer.byteLength(message)} ${message}`;
}

export function sendSyslog(items: Traffic['syslog'], target: Target): Promise<void> {
  if (items.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.syslogHost, port: target.syslogPort }, () => {
      socket.end(items.map((item) => syslogFrame(item, target.host)).join(''), () => resolve());
    });
    socket.on('error', (err) =>
      reject(new VigilError('unavailable', `cannot send syslog to ${target.syslogHost}:${target.syslogPort} (${err.message}); is Vigil's syslog input on? Use --syslog HOST:PORT`)),
    );
  });
}

async function post(target: Target, path: string, contentType: string, body: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL(path, target.server), { method: 'POST', headers: { authorization: `Bearer ${target.token}`, 'content-type': contentType }, body });
  } catch (err) {
    throw new VigilError('unavailable', `cannot reach Vigil at ${target.server} (${err instanceof Error ? err.message : String(err)}); is \`vigil start\` running?`);
  }
  if (!response.ok) {
    const text = await response.text();
    throw new VigilError(response.status === 401 ? 'unauthorized' : response.status === 403 ? 'forbidden' : 'unavailable', `Vigil refused simulated events: ${response.status} ${text.slice(0, 300)}`);
  }
}

const CHUNK = 500;

export async function sendAccess(items: Traffic['access'], target: Target): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) {
    const lines = items.slice(i, i + CHUNK).map((item) => item.line);
    await post(target, `/api/v1/events?format=nginx&host=${encodeURIComponent(target.host)}`, 'text/plain', lines.join('\n'));
  }
}

export async function sendDocuments(items: Traffic['documents'], target: Target): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) {
    await post(target, '/api/v1/events', 'application/x-ndjson', items.slice(i, i + CHUNK).map((item) => JSON.stringify(item.doc)).join('\n'));
  }
}

/**
 * Sends it all: syslog first (the attacks' early steps), then access lines, then host events, so that what happens
 * later in event time also arrives later. Syslog over TCP has no acknowledgement: a pause lets it be stored first.
 */
export async function sendTraffic(traffic: Traffic, target: Target, pauseMs = 750): Promise<void> {
  await sendSyslog(traffic.syslog, target);
  if (traffic.syslog.length > 0) await new Promise((r) => setTimeout(r, pauseMs));
  await sendAccess(traffic.access, target);
  await sendDocuments(traffic.documents, target);
}
