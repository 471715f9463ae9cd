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

export interface ScannerExplanation {
  match: boolean;
  tool?: string;
}

export function explainScanner(value: string): ScannerExplanation {
  if (value.length === 0) return { match: false };
  const ua = value.toLowerCase();
  for (const tool of SCANNERS) {
    for (let at = ua.indexOf(tool); at >= 0; at = ua.indexOf(tool, at + 1)) {
      const before = at === 0 ? 32 : ua.charCodeAt(at - 1);
      const after = at + tool.length >= ua.length ? 32 : ua.charCodeAt(at + tool.length);
      if (!isWordChar(before) && !isWordChar(after)) return { match: true, tool };
    }
  }
  return { match: false };
}

/** True when `value` (a User-Agent) names a known security scanner or attack tool. */
export function scanner(value: string): boolean {
  return explainScanner(value).match;
}
