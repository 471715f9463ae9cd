// Security scanners and attack tools that announce themselves in the User-Agent header. Matching is on tool names
// as whole words, case-insensitively, so that `Nmap Scripting Engine` matches and `Zappos` does not match `zap`.

/**
 * Tool names as they appear in their default User-Agent strings (after OWASP CRS scanners-user-agents.data and the
 * tools' own sources). Web crawlers of search engines are not scanners and are not listed.
 */
const SCANNERS = [
  'sqlmap', 'nikto', 'nmap', 'nmap scripting engine', 'masscan', 'zgrab', 'zgrab2', 'nuclei', 'wpscan', 'dirbuster',
  'gobuster', 'ffuf', 'feroxbuster', 'dirb', 'dirsearch', 'wfuzz', 'acunetix', 'acunetix-product', 'netsparker',
  'invicti', 'nessus', 'openvas', 'w3af', 'w3af.org', 'arachni', 'havij', 'zmeu', 'morfeus', 'jaeles', 'skipfish',
  'paros', 'webinspect', 'appscan', 'commix', 'xsser', 'fimap', 'bbqsql', 'jbrofuzz', 'grabber', 'brutus', 'hydra',
  'medusa', 'sqlninja', 'absinthe', 'webshag', 'whatweb', 'wapiti', 'burp', 'burpsuite', 'owasp zap',
  'zaproxy', 'zap', 'qualys was', 'detectify', 'httpx - open-source project', 'interactsh', 'xray', 'goby',
  'fuzz faster u fool', 'struts-pwn', 'log4j-scan', 'joomscan', 'droopescan', 'cmsmap', 'blackwidow',
  'pangolin', 'mysqloit', 'webvulnscan', 'nsauditor', 'bsqlbf', 'teh forest lobster', 'muieblackcat', 'zollard',
  'ddg_win', 'morpheus fucking scanner', 'black widow', 'l9explore', 'l9tcpid', 'censysinspect', 'expanseinc',
  'netcraftsurveyagent', 'internet-measurement', 'scaninfo@paloaltonetworks.com', 'leakix', 'fofa', 'shodan',
];

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Tool names by their first word, with their place in SCANNERS. A tool can only start where a word of the
 * User-Agent starts and only if that word is its first word, so each word is looked up once.
 */
const BY_FIRST_WORD = new Map<string, { tool: string; rank: number }[]>();
/** The first three characters of every first word, as one number: most words of a User-Agent are ruled out by it. */
const FIRST_THREE = new Set<number>();
const three = (a: number, b: number, c: number): number => (a << 16) | (b << 8) | c;
SCANNERS.forEach((tool, rank) => {
  let end = 0;
  while (end < tool.length && isWordChar(tool.charCodeAt(end))) end++;
  const first = tool.slice(0, end);
  if (first.length < 3) throw new Error(`scanner name ${tool}: its first word must have three characters at least`);
  FIRST_THREE.add(three(first.charCodeAt(0), first.charCodeAt(1), first.charCodeAt(2)));
  const list = BY_FIRST_WORD.get(first) ?? [];
  list.push({ tool, rank });
  BY_FIRST_WORD.set(first, list);
});

export interface ScannerExplanation {
  match: boolean;
  tool?: string;
}

export function explainScanner(value: string): ScannerExplanation {
  if (value.length === 0) return { match: false };
  // Lowering also gives a flat string, whose characters are cheap to read one by one.
  const ua = value.toLowerCase();
  const n = ua.length;
  let best: { tool: string; rank: number } | undefined;
  let i = 0;
  while (i < n) {
    if (!isWordChar(ua.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && isWordChar(ua.charCodeAt(j))) j++;
    if (j - i >= 3 && FIRST_THREE.has(three(ua.charCodeAt(i), ua.charCodeAt(i + 1), ua.charCodeAt(i + 2)))) best = better(ua, i, j, best);
    i = j;
  }
  return best === undefined ? { match: false } : { match: true, tool: best.tool };
}

/** The tool (of lowest rank) starting at the word ua[i, j), if better than `best`. */
function better(ua: string, i: number, j: number, best: { tool: string; rank: number } | undefined): { tool: string; rank: number } | undefined {
  const tools = BY_FIRST_WORD.get(ua.slice(i, j));
  if (tools === undefined) return best;
  for (const t of tools) {
    if (best !== undefined && best.rank <= t.rank) continue;
    const end = i + t.tool.length;
    if (ua.startsWith(t.tool, i) && (end >= ua.length || !isWordChar(ua.charCodeAt(end)))) best = t;
  }
  return best;
}

/** True when `value` (a User-Agent) names a known security scanner or attack tool. */
export function scanner(value: string): boolean {
  return explainScanner(value).match;
}
