// `vigil intel lookup VALUE` and `vigil intel feeds`: everything known about an indicator — the feeds that list it,
// GeoIP, online services — from the configuration here, or from a running Vigil (with recent events) via --server.
import { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import type { EcsEvent } from '../core/event.js';
import { Enrichment, type FeedStatus, type IndicatorReport } from '../enrich/index.js';
import { callServer, DEFAULT_SERVER } from './client.js';
import { printable, renderTable } from './search.js';

type Report = IndicatorReport & { events?: { total: number; events: EcsEvent[] } };

function ago(seconds: number | null): string {
  if (seconds === null) return 'never loaded';
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${(seconds / 3600).toFixed(1)} h ago`;
}

export function renderReport(report: Report): string {
  const out: string[] = [];
  out.push(`${printable(report.value)} (${report.kind})`);
  out.push('', 'Feeds:');
  if (report.feeds.length === 0) out.push('  listed by no feed');
  for (const { feed, indicator } of report.feeds) {
    const extra = [indicator.description, indicator.confidence && `confidence ${String(indicator.confidence)}`, indicator.reference].filter(Boolean).join('; ');
    out.push(`  ${feed}: ${printable(String(indicator.name))} [${String(indicator.type)}]${extra ? ` — ${printable(extra)}` : ''}`);
  }
  if (report.kind === 'ip') {
    out.push('', 'GeoIP:');
    const geo = report.geo?.geo;
    const as = report.geo?.as;
    if (!geo && !as) out.push('  not in the database');
    if (geo?.name) out.push(`  ${geo.name} address`);
    const place = [geo?.city_name, geo?.region_name, geo?.country_name ?? geo?.country_iso_code].filter(Boolean).join(', ');
    if (place) out.push(`  ${place}${geo?.country_iso_code && geo.country_name ? ` (${geo.country_iso_code})` : ''}${geo?.location ? ` at ${geo.location.lat}, ${geo.location.lon}` : ''}`);
    if (as) out.push(`  AS${as.number}${as.organization?.name ? ` ${as.organization.name}` : ''}`);
  }
  out.push('', 'Online:');
  if (report.online.length === 0) out.push('  no online service configured (threat_intel.online: abuseipdb, virustotal, otx)');
  for (const a of report.online) {
    const text = a.summary ?? a.error ?? a.status;
    out.push(`  ${a.provider}: ${a.status === 'found' ? printable(text) : `${a.status}${a.summary || a.error ? ` — ${printable(text)}` : ''}`}${a.cached ? ' (cached)' : ''}`);
  }
  if (report.events) {
    out.push('', `Events: ${report.events.total} (query: ${report.query})`);
    if (report.events.events.length > 0) out.push(renderTable(report.events.events, process.stdout.columns ?? 160));
  } else {
    out.push('', `Events: vigil search '${report.query}' (or pass --server to include them here)`);
  }
  return out.join('\n');
}

export function renderFeeds(feeds: FeedStatus[]): string {
  if (feeds.length === 0) return 'no threat intelligence feed configured (threat_intel.feeds)';
  return feeds
    .map((f) => {
      const kinds = Object.entries(f.kinds).map(([k, n]) => `${n} ${k}`).join(', ');
      return `${f.name}  ${f.indicators} indicators${kinds ? ` (${kinds})` : ''}, loaded ${ago(f.age_seconds)}${f.invalid ? `, ${f.invalid} invalid` : ''}${f.expired ? `, ${f.expired} expired` : ''}${f.last_error ? `\n  last error: ${printable(f.last_error)}` : ''}\n  ${f.format} from ${f.source}${f.refresh_minutes > 0 ? `, refreshed every ${f.refresh_minutes} min` : ''}`;
    })
    .join('\n');
}

interface Common {
  config?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

/** An Enrichment built from the configuration, feeds loaded, for commands run without a server. */
async function localEnrichment(configFile: string | undefined): Promise<Enrichment> {
  const config = loadConfig(configFile);
  const enrichment = new Enrichment(config, { clock: systemClock });
  await enrichment.start();
  return enrichment;
}

export function intelCommand(): Command {
  const intel = new Command('intel').description('Threat intelligence: look an indicator up, show the feeds');

  intel
    .command('lookup')
    .description('Everything known about an IP, CIDR block, domain, URL or file hash: feeds, GeoIP, online services, recent events')
    .argument('<value>', 'the indicator')
    .option('--config <file>', 'configuration file (YAML) with threat_intel and geoip, when not asking a server')
    .option('--server <url>', `ask a running Vigil (adds the events that carry it), e.g. ${DEFAULT_SERVER}`)
    .option('--token <token>', 'API token for --server (default $VIGIL_TOKEN)')
    .option('--no-online', 'do not ask AbuseIPDB, VirusTotal or OTX')
    .option('--events <n>', 'recent events to show with --server', '10')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  vigil intel lookup 203.0.113.7 --config vigil.yaml
  vigil intel lookup evil.example --server ${DEFAULT_SERVER} --token $VIGIL_TOKEN
  vigil intel lookup 44d88612fea8a8f36de82e1278abb02f --json`,
    )
    .action(async (value: string, opts: Common & { online: boolean; events: string }) => {
      let report: Report;
      if (opts.server) {
        const params = new URLSearchParams({ value, events: opts.events, online: String(opts.online) });
        const response = await callServer({ server: opts.server, token: opts.token ?? process.env.VIGIL_TOKEN }, `api/v1/intel/lookup?${params}`);
        report = (await response.json()) as Report;
      } else {
        const enrichment = await localEnrichment(opts.config);
        try {
          report = await enrichment.lookup(value, { online: opts.online });
        } finally {
          await enrichment.close();
        }
      }
      console.log(opts.json ? JSON.stringify(report, null, 2) : renderReport(report));
    });

  intel
    .command('feeds')
    .description('The configured feeds: indicators, age, last error')
    .option('--config <file>', 'configuration file (YAML), when not asking a server')
    .option('--server <url>', `ask a running Vigil, e.g. ${DEFAULT_SERVER}`)
    .option('--token <token>', 'API token for --server (default $VIGIL_TOKEN)')
    .option('--json', 'print JSON')
    .action(async (opts: Common) => {
      let feeds: FeedStatus[];
      if (opts.server) {
        const response = await callServer({ server: opts.server, token: opts.token ?? process.env.VIGIL_TOKEN }, 'api/v1/intel/feeds');
        feeds = ((await response.json()) as { feeds: FeedStatus[] }).feeds;
      } else {
        const enrichment = await localEnrichment(opts.config);
        feeds = enrichment.feedStatus();
        await enrichment.close();
      }
      console.log(opts.json ? JSON.stringify(feeds, null, 2) : renderFeeds(feeds));
    });
  return intel;
}
