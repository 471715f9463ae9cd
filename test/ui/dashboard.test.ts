// The dashboard in a real browser (Debian's Chromium) against a real Vigil process fed by `vigil simulate`: login,
// every page without console errors (screenshots of each), a posted event and a new alert appearing live, triage,
// the map showing the simulated attackers' origins, brushing to zoom, rules and models, XSS payloads shown as text,
// CSRF refused, the stream-down banner with polling, and a restart that keeps the session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT, runVigil } from '../../src/testing/process.js';
import { CHROMIUM, launchBrowser, type Browser } from './browser.js';
import { startUiVigil, type UiVigil } from './server.js';

const PASSWORD = 'correct horse battery';
/** Where the screenshots go: $VIGIL_SCREENSHOTS (docs/screenshots refreshes the README's), else a temporary folder. */
const SHOTS = resolve(REPO_ROOT, process.env.VIGIL_SCREENSHOTS ?? join(tmpdir(), 'vigil-ui-screenshots'));
const PAYLOADS = readFileSync(join(REPO_ROOT, 'test/ui/fixtures/xss-payloads.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0 && !l.startsWith('#'));

/** The simulator's attackers (src/simulate/scenarios.ts) and the countries the bundled GeoIP database puts them in. */
const ATTACKERS: Record<string, string> = { '218.92.0.107': 'CN', '61.177.172.13': 'CN', '45.155.205.233': 'RU', '5.188.10.176': 'RU', '185.220.101.34': 'DE' };
const BRUTE_FORCE_RULE = '6f0d1c3e-8a52-4c47-9a57-0b1f3d6c2a01';

const skip = !existsSync(CHROMIUM) ? 'Debian chromium is not installed (npm test installs it when run as root)' : !existsSync(join(REPO_ROOT, 'dist/web/index.html')) ? 'the dashboard is not built' : false;

interface AlertSummary {
  id: string;
  rule: { id: string; title: string };
  entity: { field: string; value: string } | null;
  status: string;
}

async function login(page: Page, url: string, password = PASSWORD): Promise<void> {
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}

/** `count` failed SSH passwords from one address, as raw sshd lines through the HTTP input: a brute force. */
function sshFailures(ip: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `Failed password for ${i % 2 ? 'root' : 'admin'} from ${ip} port ${41000 + i} ssh2`).join('\n');
}

describe('dashboard in Chromium, against `vigil start` fed by `vigil simulate`', { skip, timeout: 420_000 }, () => {
  let vigil: UiVigil;
  let browser: Browser;
  let page: Page;

  const json = async <T>(path: string): Promise<T> => (await (await vigil.call(path)).json()) as T;
  const alerts = (query: string) => json<{ total: number; alerts: AlertSummary[] }>(`/api/v1/alerts?${query}`);
  const postLines = async (lines: string, format: string) => {
    const res = await vigil.call(`/api/v1/events?format=${format}&host=bastion`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: lines });
    assert.equal(res.status, 200, await res.text());
  };
  const postEvents = async (events: Record<string, unknown>[]) => {
    const res = await vigil.call('/api/v1/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: events.map((e) => JSON.stringify(e)).join('\n') });
    assert.equal(res.status, 200, await res.text());
  };

  before(async () => {
    vigil = await startUiVigil({ password: PASSWORD });
    // Half an hour of the shop's traffic with every attack scenario; it waits until each scenario's alerts are raised.
    const result = await vigil.simulate(['--span', '30m', '--seed', '5', '--wait', '90s']);
    assert.equal(result.code, 0, `vigil simulate failed:\n${result.stderr}\n${result.stdout}`);
    browser = await launchBrowser();
    page = await browser.newPage();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await vigil?.close();
  });

  test('a wrong password is refused; the right one logs in with an HttpOnly, SameSite=Strict session cookie', async () => {
    await login(page, vigil.url, 'wrong password');
    await page.getByTestId('login-error').waitFor();
    assert.match((await page.getByTestId('login-error').textContent()) ?? '', /wrong user name or password/);
    await page.screenshot({ path: join(SHOTS, 'login.png') });
    await login(page, vigil.url);
    await page.getByTestId('page-overview').waitFor();
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'vigil_session');
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    const res = await fetch(`${vigil.url}/overview`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    browser.takeProblems(); // the refused login's 401 is logged by the browser itself
  });

  test('every page renders without console errors', async () => {
    const compromise = (await json<{ incidents: { id: string; stage: string }[] }>('/api/v1/incidents?severity=critical')).incidents.find((i) => i.stage === 'compromise');
    assert.ok(compromise, 'the compromise scenario made a critical incident');
    const pages: [string, string, string, () => Promise<unknown>][] = [
      ['overview', '/overview?from=now-1h', 'page-overview', () => page.locator('.barlist li').nth(2 * 8 - 1).waitFor()],
      ['logs', '/logs?from=now-1h', 'page-logs', () => page.getByTestId('log-table').waitFor()],
      ['alerts', '/alerts', 'page-alerts', () => page.getByTestId('alert-table').waitFor()],
      ['incidents', '/incidents', 'page-incidents', () => page.locator('[data-testid=page-incidents] tbody tr').first().waitFor()],
      ['incident', `/incidents/${compromise.id}`, 'page-incident', () => page.locator('.timeline li').nth(3).waitFor()],
      ['map', '/map?from=now-1h', 'page-map', () => page.getByTestId('map-origin').first().waitFor()],
      // This machine's metrics come every 2 s: its row has a CPU figure once the first sample is in.
      ['health', '/health', 'page-health', () => page.locator('[data-testid=host-row] [data-testid=meter-cpu]').first().waitFor({ timeout: 20_000 })],
      ['rules', `/rules?rule=${BRUTE_FORCE_RULE}`, 'page-rules', () => page.getByTestId('rule-text').waitFor()],
      ['models', '/models', 'page-models', () => page.getByTestId('model-card').first().waitFor()],
    ];
    for (const [name, path, testid, ready] of pages) {
      await page.goto(vigil.url + path);
      await page.getByTestId(testid).waitFor();
      await ready();
      // Let the page's other requests settle and charts draw before the picture.
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.waitForTimeout(name === 'health' ? 4500 : 500);
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: name !== 'logs' });
      const problems = browser.takeProblems();
      assert.deepEqual(problems, [], `${name}: ${problems.join('\n')}`);
    }
    // The incident page: the stages reached, the timeline, and how its confidence was reached.
    await page.goto(`${vigil.url}/incidents/${compromise.id}`);
    await page.locator('.timeline li').nth(3).waitFor();
    assert.match((await page.locator('.explain').textContent()) ?? '', /\S/);
    // Detail pages: the brute force alert, and one event.
    const brute = (await alerts(`rule=${BRUTE_FORCE_RULE}&entity=218.92.0.107&status=`)).alerts[0];
    assert.ok(brute, 'the brute force from 218.92.0.107 raised an alert');
    await page.goto(`${vigil.url}/alerts/${brute.id}`);
    await page.getByTestId('page-alert').waitFor();
    await page.getByTestId('evidence-table').waitFor();
    await page.screenshot({ path: join(SHOTS, 'alert.png'), fullPage: true });
    await page.goto(`${vigil.url}/logs?from=now-1h&q=${encodeURIComponent('event.dataset:nginx.access AND source.ip:45.155.205.233')}`);
    await page.locator('[data-testid=log-table] tbody tr').first().click();
    await page.getByTestId('event-detail').waitFor();
    await page.screenshot({ path: join(SHOTS, 'event.png') });
    assert.deepEqual(browser.takeProblems(), []);
  });

  test('Overview filters by time range, host and query, all kept in the URL; a bad query is explained inline', async () => {
    await page.goto(`${vigil.url}/overview`);
    await page.getByTestId('page-overview').waitFor();
    await page.getByLabel('Time range').selectOption('now-1h');
    await page.getByLabel('Host').selectOption('shop-web-1');
    await page.getByLabel('Query').fill('event.dataset:nginx.access AND http.response.status_code>=500');
    await page.getByLabel('Query').press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q')?.includes('status_code>=500'));
    const params = new URL(page.url()).searchParams;
    assert.equal(params.get('from'), 'now-1h');
    assert.equal(params.get('host'), 'shop-web-1');
    // The figures are those of the same search through the API, and the top lists hold only matching events.
    const q = '(event.dataset:nginx.access AND http.response.status_code>=500) AND host.name:"shop-web-1"';
    const expected = (await json<{ total: number }>(`/api/v1/events?q=${encodeURIComponent(q)}&from=now-1h&limit=1`)).total;
    assert.ok(expected > 0);
    await page.waitForFunction((n) => document.querySelector('[data-testid=stat-events] .stat-value')?.textContent?.replace(/[^\d]/g, '') === String(n), expected);
    const hostsPanel = page.locator('.panel', { hasText: 'Top hosts' });
    await hostsPanel.locator('.barlist li').first().waitFor();
    assert.deepEqual(await hostsPanel.locator('.barlist-label').allTextContents(), ['shop-web-1']);
    // A reload keeps the view: everything is in the URL.
    await page.reload();
    await page.waitForFunction((n) => document.querySelector('[data-testid=stat-events] .stat-value')?.textContent?.replace(/[^\d]/g, '') === String(n), expected);
    assert.equal(await page.getByLabel('Host').inputValue(), 'shop-web-1');
    // Logs: a query the language cannot read is explained under the bar, with the place marked.
    await page.goto(`${vigil.url}/logs?from=now-1h&q=${encodeURIComponent('source.ip:(10.0.0.1 OR')}`);
    await page.getByTestId('query-error').waitFor();
    assert.match((await page.getByTestId('query-error').textContent()) ?? '', /\S/);
    browser.takeProblems(); // the refused query's 400 is logged by the browser itself
  });

  test('a newly posted event appears in Logs without a reload', async () => {
    await page.goto(`${vigil.url}/logs?from=now-1h`);
    await page.getByTestId('log-table').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await postEvents([{ '@timestamp': new Date().toISOString(), event: { dataset: 'app' }, host: { name: 'shop-web-1' }, message: 'live-event-marker-8841 arrived' }]);
    await page.locator('[data-testid=log-table] td', { hasText: 'live-event-marker-8841' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');
  });

  test('an alert raised after the page loaded appears on the Alerts page live', async () => {
    await page.goto(`${vigil.url}/alerts`);
    await page.getByTestId('alert-table').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
    // Ten failed passwords from a new address: the brute force rule's threshold.
    await postLines(sshFailures('192.0.2.99', 12), 'sshd');
    const stored = Date.now(); // the answer came: the events are stored
    const row = page.locator('[data-testid=alert-table] tr', { hasText: '192.0.2.99' });
    await row.waitFor({ timeout: 10_000 });
    console.log(`alert on screen ${Date.now() - stored} ms after its events were stored`);
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'the page was not reloaded');
    assert.match((await row.getAttribute('class')) ?? '', /fresh/);
  });

  test('triage through the page: acknowledge, verdict, note, assignee; bulk resolve', async () => {
    const id = (await alerts(`rule=${BRUTE_FORCE_RULE}&entity=218.92.0.107&status=`)).alerts[0]!.id;
    await page.goto(`${vigil.url}/alerts/${id}`);
    await page.getByTestId('status-acknowledged').click();
    await page.getByTestId('verdict-true_positive').click();
    await page.fill('#note', 'Blocked 218.92.0.107 at the firewall <b>now</b>');
    await page.getByTestId('add-note').click();
    await page.locator('[data-testid=notes] li', { hasText: 'Blocked 218.92.0.107' }).waitFor();
    await page.getByRole('button', { name: 'Me', exact: true }).click();
    await page.waitForFunction(() => (document.querySelector('#assignee') as HTMLInputElement | null)?.value === 'admin');
    type Full = { status: string; verdict: string; assignee: string; notes: { text: string; by: string }[] };
    let alert = await json<Full>(`/api/v1/alerts/${id}`);
    for (let i = 0; i < 50 && alert.assignee !== 'admin'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      alert = await json<Full>(`/api/v1/alerts/${id}`);
    }
    assert.equal(alert.status, 'acknowledged');
    assert.equal(alert.verdict, 'true_positive');
    assert.equal(alert.assignee, 'admin');
    assert.equal(alert.notes[0]!.text, 'Blocked 218.92.0.107 at the firewall <b>now</b>');
    assert.equal(alert.notes[0]!.by, 'admin');
    assert.equal(await page.locator('[data-testid=notes] b').count(), 0, 'a note is text, not HTML');

    await page.goto(`${vigil.url}/alerts?status=open`);
    await page.getByTestId('alert-table').waitFor();
    const before = (await alerts('status=open&limit=1')).total;
    assert.ok(before >= 2, `open alerts: ${before}`);
    await page.locator('[data-testid=alert-table] tbody input[type=checkbox]').nth(0).check();
    await page.locator('[data-testid=alert-table] tbody input[type=checkbox]').nth(1).check();
    await page.getByTestId('bulk-resolve').click();
    await page.getByText('2 alerts resolved').waitFor();
    assert.equal((await alerts('status=open&limit=1')).total, before - 2);

    // The incident the compromise made: acknowledged, taken, and a note, from its page.
    const incident = (await json<{ incidents: { id: string; stage: string }[] }>('/api/v1/incidents?severity=critical')).incidents.find((i) => i.stage === 'compromise')!;
    await page.goto(`${vigil.url}/incidents/${incident.id}`);
    await page.getByTestId('page-incident').waitFor();
    await page.locator('.seg-btn', { hasText: 'Acknowledged' }).click();
    await page.locator('.seg-btn.on', { hasText: 'Acknowledged' }).waitFor();
    await page.getByRole('button', { name: /Assign to me/ }).click();
    await page.getByRole('button', { name: /now admin/ }).waitFor();
    await page.fill('#incident-note', 'Rebuilt shop-web-1 from a clean image');
    await page.getByTestId('incident-add-note').click();
    await page.locator('.timeline blockquote', { hasText: 'Rebuilt shop-web-1' }).waitFor();
    const after = await json<{ status: string; assignee: string; history: { action: string; note?: string; by: string }[] }>(`/api/v1/incidents/${incident.id}`);
    assert.equal(after.status, 'acknowledged');
    assert.equal(after.assignee, 'admin');
    assert.ok(after.history.some((h) => h.action === 'note' && h.note === 'Rebuilt shop-web-1 from a clean image' && h.by === 'admin'));
    assert.deepEqual(browser.takeProblems(), []);
  });

  test('the map shows the simulated origins: every attacker, placed in its country, with arcs to the host it hit', async () => {
    await page.goto(`${vigil.url}/map?from=now-2h`);
    await page.getByTestId('worldmap').waitFor();
    await page.getByTestId('map-origin').first().waitFor();
    assert.ok((await page.locator('.map-country').count()) > 150, 'the countries are drawn');
    const everything = new Set(await page.getByTestId('map-origin').evaluateAll((els) => els.map((e) => e.getAttribute('data-country'))));
    for (const country of Object.values(ATTACKERS)) assert.ok(everything.has(country), `origins ${[...everything].join(' ')} include ${country}`);
    assert.match((await page.getByTestId('map-table').textContent()) ?? '', /shop-web-1/, 'the simulated host is the target');
    assert.ok((await page.locator('.map-arc').count()) >= everything.size, 'arcs to the targeted host');
    // Only the sources of alerts: exactly the attackers' countries, and their addresses in the table.
    await page.getByTestId('map-preset').selectOption({ label: 'Sources of alerts' });
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'event.dataset:vigil.alert');
    // The new sample has come once a customer's country (the shop's customers are in GB and SE) is gone.
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=map-origin]')].some((e) => ['GB', 'SE'].includes(e.getAttribute('data-country') ?? '')));
    const attackers = await page.getByTestId('map-origin').evaluateAll((els) => els.map((e) => e.getAttribute('data-country')));
    assert.deepEqual(new Set(attackers), new Set(Object.values(ATTACKERS)));
    const table = (await page.getByTestId('map-table').textContent()) ?? '';
    for (const ip of Object.keys(ATTACKERS)) assert.ok(table.includes(ip), `${ip} in the origins table`);
    assert.deepEqual(browser.takeProblems(), []);
  });

  test('brushing the Logs histogram zooms to the chosen span; the URL keeps it', async () => {
    await page.goto(`${vigil.url}/logs?from=now-1h`);
    await page.getByTestId('log-table').waitFor();
    const hits = async () => Number(((await page.getByTestId('hits').textContent()) ?? '').replace(/[^\d]/g, ''));
    const all = await hits();
    const box = (await page.locator('[data-testid=page-logs] .chart .u-over').boundingBox())!;
    // Drag across the middle third of the chart.
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + (2 * box.width) / 3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => /^\d{4}-\d\d-\d\dT/.test(new URLSearchParams(location.search).get('to') ?? ''));
    const params = new URL(page.url()).searchParams;
    const span = Date.parse(params.get('to')!) - Date.parse(params.get('from')!);
    assert.ok(span > 10 * 60_000 && span < 30 * 60_000, `a third of the hour: ${span} ms`);
    await page.waitForFunction((before) => {
      const n = Number((document.querySelector('[data-testid=hits]')?.textContent ?? '').replace(/[^\d]/g, ''));
      return n > 0 && n < before;
    }, all);
    // A reload shows the same zoomed view: the range lives in the URL.
    await page.reload();
    await page.getByTestId('log-table').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('from'), params.get('from'));
    const zoomed = await hits();
    assert.ok(zoomed < all);
    // Export: the zoomed view's events as CSV, with the table's columns.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    // `@timestamp` is quoted with ' like any cell a spreadsheet would read as a formula (OWASP "CSV injection").
    assert.equal(csv[0], "'@timestamp,event.dataset,host.name,source.ip,user.name,event.action,event.outcome,message");
    assert.equal(csv.length - 1, zoomed);
  });

  test('rules: the text, a tester run on an edited copy, and disable/enable', async () => {
    await page.goto(`${vigil.url}/rules?rule=${BRUTE_FORCE_RULE}`);
    await page.getByTestId('rule-text').waitFor();
    assert.match((await page.getByTestId('rule-text').textContent()) ?? '', /SSH brute force from one source/);
    // The tester runs a copy: lower the threshold to 3 and send three failures.
    const text = await page.inputValue('#rule-text');
    await page.fill('#rule-text', text.replace('gte: 10', 'gte: 3'));
    const failure = (i: number) => JSON.stringify({ '@timestamp': new Date(Date.now() + i * 1000).toISOString(), event: { dataset: 'sshd', action: 'ssh_login', outcome: 'failure' }, source: { ip: '198.51.100.1' }, user: { name: 'root' } });
    await page.fill('#rule-events', [0, 1, 2].map(failure).join('\n'));
    await page.getByRole('button', { name: 'Run the rule' }).click();
    await page.getByTestId('tester-result').waitFor();
    const result = (await page.getByTestId('tester-result').textContent()) ?? '';
    assert.match(result, /SSH brute force from one source/);
    assert.match(result, /4 matches/); // three building-block matches and the correlation
    const rule = async () => json<{ enabled: boolean }>(`/api/v1/rules/${BRUTE_FORCE_RULE}`);
    await page.getByTestId('rule-toggle').click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    assert.equal((await rule()).enabled, false);
    await page.getByTestId('rule-toggle').click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    assert.equal((await rule()).enabled, true);
    await page.screenshot({ path: join(SHOTS, 'rule-tester.png'), fullPage: true });
    assert.deepEqual(browser.takeProblems(), []);
  });

  test('models: retraining from the page shows its progress and makes a new version active', async () => {
    type Model = { id: string; active_version: number | null; samples: number; min_samples: number };
    const { models } = await json<{ models: Model[] }>('/api/v1/models');
    const web = models.find((m) => m.id === 'web') ?? models.find((m) => m.samples >= m.min_samples);
    assert.ok(web && web.samples >= web.min_samples, `a model with enough samples: ${JSON.stringify(models.map((m) => [m.id, m.samples]))}`);
    await page.goto(`${vigil.url}/models`);
    const card = page.locator(`[data-testid=model-card][data-model="${web.id}"]`);
    await card.waitFor();
    const panel = page.locator('.panel', { has: card });
    await panel.getByTestId('retrain').click();
    await panel.getByTestId('model-notice').waitFor({ timeout: 60_000 });
    const after = (await json<{ models: Model[] }>('/api/v1/models')).models.find((m) => m.id === web.id)!;
    assert.equal(after.active_version, (web.active_version ?? 0) + 1);
    assert.match((await panel.getByTestId('model-notice').textContent()) ?? '', new RegExp(`Version ${after.active_version} trained`));
    assert.match((await card.getByTestId('active-version').textContent()) ?? '', new RegExp(`v${after.active_version}`));
    assert.deepEqual(browser.takeProblems(), []);
  });

  test('XSS payloads in user name, URL, user agent and message are shown as text; nothing runs', async () => {
    const now = Date.now();
    await postEvents(
      PAYLOADS.map((p, i) => ({
        '@timestamp': new Date(now - i * 1000).toISOString(),
        event: { dataset: 'xss.test', outcome: 'failure' },
        host: { name: 'shop-web-1' },
        source: { ip: '203.0.113.250' },
        user: { name: p },
        url: { original: p, path: p },
        user_agent: { original: p },
        message: p,
      })),
    );
    const dialogs: string[] = [];
    page.on('dialog', (d) => dialogs.push(d.message()));
    await page.goto(`${vigil.url}/logs?from=now-1h&q=event.dataset:xss.test&cols=user.name,url.original,user_agent.original,message`);
    await page.getByTestId('log-table').waitFor();
    const rows = page.locator('[data-testid=log-table] tbody tr');
    assert.equal(await rows.count(), PAYLOADS.length);
    // Every payload is in the table as text, four times (the four fields), and no element came from one.
    const cells = await page.locator('[data-testid=log-table] tbody td').allTextContents();
    for (const p of PAYLOADS) assert.equal(cells.filter((c) => c === p).length, 4, `payload shown as text: ${p}`);
    const injected = await page.evaluate(() => document.querySelectorAll('main script, main img:not([src^="/assets/"]), main svg:not(.worldmap):not(.worldmap *), main iframe, main [onerror], main [onload], main [onmouseover]').length);
    assert.equal(injected, 0);
    // The detail drawer: fields, JSON and the original line; url.* values that are not http(s) are not links.
    await rows.first().click();
    await page.getByTestId('event-detail').waitFor();
    assert.equal(await page.locator('[data-testid=event-detail] a[href^="javascript:" i]').count(), 0);
    await page.getByRole('tab', { name: 'JSON' }).click();
    await page.getByRole('tab', { name: 'Original line' }).click();
    await page.screenshot({ path: join(SHOTS, 'xss-as-text.png') });
    // Overview's top users list renders user names; the alerts list renders the simulator's XSS attempts (URLs).
    await page.goto(`${vigil.url}/overview?from=now-1h&q=event.dataset:xss.test`);
    await page.locator('.barlist-label').first().waitFor();
    await page.goto(`${vigil.url}/logs?from=now-1h&q=${encodeURIComponent('url.original:*script*')}&cols=source.ip,url.original`);
    await page.getByTestId('log-table').waitFor();
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'no payload ran');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(browser.takeProblems(), []);
  });

  test('CSRF: a cookie-authenticated change without the token, or from another origin, is refused', async () => {
    const session = (await browser.context.cookies()).find((c) => c.name === 'vigil_session')!;
    const cookie = `vigil_session=${session.value}`;
    const me = (await (await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie } })).json()) as { csrf: string; user: string };
    assert.equal(me.user, 'admin');
    const { alerts: list } = await alerts('limit=1');
    const patch = (headers: Record<string, string>) =>
      fetch(`${vigil.url}/api/v1/alerts/${list[0]!.id}`, { method: 'PATCH', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ note: 'csrf?' }) });
    assert.equal((await patch({})).status, 403);
    assert.equal((await patch({ 'x-csrf-token': 'forged' })).status, 403);
    assert.equal((await patch({ 'x-csrf-token': me.csrf, origin: 'https://evil.example' })).status, 403);
    assert.equal((await patch({ 'x-csrf-token': me.csrf, origin: vigil.url })).status, 200);
    const post = await fetch(`${vigil.url}/api/v1/events`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{"message":"forged"}' });
    assert.equal(post.status, 403);
  });

  test('when the stream is down the page says so and polls: a new alert still appears', async () => {
    const polling = await browser.newPage();
    await polling.route('**/api/v1/stream', (route) => route.abort());
    await polling.goto(`${vigil.url}/alerts`);
    await polling.getByTestId('alert-table').waitFor();
    await polling.getByTestId('stream-down').waitFor({ timeout: 15_000 });
    await polling.screenshot({ path: join(SHOTS, 'stream-down.png') });
    await postLines(sshFailures('192.0.2.77', 12), 'sshd');
    await polling.locator('[data-testid=alert-table] tr', { hasText: '192.0.2.77' }).waitFor({ timeout: 15_000 });
    // The stream comes back: the banner goes.
    await polling.unroute('**/api/v1/stream');
    await polling.getByTestId('stream-down').waitFor({ state: 'detached', timeout: 40_000 });
    await polling.close();
    browser.takeProblems(); // the aborted stream requests are logged as network errors
  });

  test('a restart of Vigil keeps the browser logged in; after signing out, the old cookie is refused even after another restart', async () => {
    await page.goto(`${vigil.url}/alerts`);
    await page.getByTestId('alert-table').waitFor();
    const cookie = `vigil_session=${(await browser.context.cookies()).find((c) => c.name === 'vigil_session')!.value}`;
    await vigil.restart();
    await page.goto(`${vigil.url}/overview?from=now-1h`);
    await page.getByTestId('page-overview').waitFor();
    await page.getByTestId('live-status').and(page.locator('.live-live')).waitFor({ timeout: 15_000 });
    // Triage still works: the CSRF token is the same after the restart.
    const { alerts: open } = await alerts('status=open&limit=1');
    await page.goto(`${vigil.url}/alerts/${open[0]!.id}`);
    await page.getByTestId('status-acknowledged').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=status-acknowledged]')?.classList.contains('on'));
    assert.equal((await json<{ status: string }>(`/api/v1/alerts/${open[0]!.id}`)).status, 'acknowledged');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name=password]').waitFor();
    await vigil.restart();
    assert.equal((await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie } })).status, 401);
    browser.takeProblems(); // the stream's requests while Vigil restarted are logged as network errors
  });

  test('a viewer reads every page but is offered no change: no triage, no rule switch, no retraining', async () => {
    const added = await runVigil(['user', 'add', 'vera', '--role', 'viewer', '--data-dir', vigil.dataDir], { VIGIL_USER_PASSWORD: 'viewer password 1' });
    assert.equal(added.code, 0, added.stderr);
    await page.goto(`${vigil.url}/login`);
    await page.fill('input[name=username]', 'vera');
    await page.fill('input[name=password]', 'viewer password 1');
    await page.click('button[type=submit]');
    await page.getByTestId('page-overview').waitFor();
    browser.takeProblems(); // the login page's "who is logged in?" answered 401, which the browser logs
    const id = (await alerts(`rule=${BRUTE_FORCE_RULE}&entity=218.92.0.107&status=`)).alerts[0]!.id;
    await page.goto(`${vigil.url}/alerts/${id}`);
    await page.getByTestId('evidence-table').waitFor();
    assert.equal(await page.getByTestId('status-resolved').count(), 0);
    assert.equal(await page.locator('#note').count(), 0);
    await page.goto(`${vigil.url}/alerts`);
    await page.getByTestId('alert-table').waitFor();
    assert.equal(await page.getByTestId('bulk-resolve').count(), 0);
    await page.goto(`${vigil.url}/rules?rule=${BRUTE_FORCE_RULE}`);
    await page.getByTestId('rule-text').waitFor();
    assert.equal(await page.getByTestId('rule-toggle').count(), 0);
    assert.equal(await page.getByTestId('rule-tester').count(), 0);
    await page.goto(`${vigil.url}/models`);
    await page.getByTestId('model-card').first().waitFor();
    assert.equal(await page.getByTestId('retrain').count(), 0);
    // And the API refuses what the page does not offer.
    const session = (await browser.context.cookies()).find((c) => c.name === 'vigil_session')!;
    const cookie = `vigil_session=${session.value}`;
    const me = (await (await fetch(`${vigil.url}/api/v1/session`, { headers: { cookie } })).json()) as { csrf: string; role: string };
    assert.equal(me.role, 'viewer');
    const patch = await fetch(`${vigil.url}/api/v1/alerts/${id}`, { method: 'PATCH', headers: { cookie, 'x-csrf-token': me.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'resolved' }) });
    assert.equal(patch.status, 403);
    assert.deepEqual(browser.takeProblems(), []);
  });
});
