// File inclusion. Local (LFI): a value that names a system file an application never serves (`/etc/passwd`,
// `win.ini`, `/proc/self/environ`, `WEB-INF/web.xml`) or reads through a PHP stream wrapper (`php://filter`).
// Remote (RFI): a URL handed to a parameter an application includes (`page=`, `file=`, `include=`), or a URL that
// only an inclusion attack would write (an IP address host, a trailing `?` that cuts off the appended suffix).
import { formDecode, inputCandidates } from './decode.js';
import { normalizePath } from './traversal.js';

/**
 * Files whose path in a request means someone is after them: credentials, process data, OS configuration, server
 * and application configuration, shell histories and keys (after OWASP CRS lfi-os-files.data, shortened).
 */
const SENSITIVE_FILES = [
  'etc/passwd', 'etc/shadow', 'etc/group', 'etc/hosts', 'etc/issue', 'etc/motd', 'etc/hostname', 'etc/crontab',
  'etc/sudoers', 'etc/master.passwd', 'etc/security/passwd', 'etc/httpd/', 'etc/apache2/', 'etc/nginx/',
  'etc/mysql/my.cnf', 'etc/my.cnf', 'etc/php.ini', 'etc/php/', 'etc/ssh/', 'etc/resolv.conf', 'etc/fstab',
  'etc/environment', 'etc/profile', 'etc/inetd.conf', 'etc/network/interfaces', 'etc/redhat-release',
  'etc/lsb-release', 'etc/os-release', 'proc/self/', 'proc/version', 'proc/cpuinfo', 'proc/meminfo', 'proc/mounts',
  'proc/net/', 'proc/sched_debug', 'var/log/apache', 'var/log/httpd', 'var/log/nginx', 'var/log/auth.log',
  'var/log/secure', 'var/log/messages', 'var/log/syslog', 'var/mail/', 'var/spool/cron', 'usr/local/apache',
  '.bash_history', '.bashrc', '.ssh/id_rsa', '.ssh/id_dsa', '.ssh/authorized_keys',
  '.ssh/known_hosts', '.htpasswd', '.htaccess', '.mysql_history', '.git/config', '.git/head', '.svn/entries',
  '.aws/credentials', '.docker/config.json', 'web-inf/web.xml', 'web-inf/classes', 'meta-inf/manifest.mf',
  'boot.ini', 'win.ini', 'system.ini', 'windows/system32', 'winnt/system32', 'windows\\system32', 'winnt\\system32',
  'inetpub/', 'inetpub\\', 'system32/drivers/etc', 'system32\\drivers\\etc', 'repair/sam', 'repair\\sam',
  'config/sam', 'config\\sam', 'wp-config.php', 'configuration.php', 'localsettings.php', 'config.inc.php',
  'web.config', 'applicationhost.config', 'php.ini', 'my.ini', 'httpd.conf', 'nginx.conf', 'shadow~',
];

/** Entries that are ordinary names on their own: they count only as a path component (`/web.config`). */
const NEEDS_SEPARATOR = new Set(['inetpub/', 'inetpub\\', 'web.config', 'php.ini', 'my.ini', 'httpd.conf', 'nginx.conf',
  'etc/hosts', 'etc/issue', 'etc/motd', 'etc/profile', 'etc/environment', 'shadow~']);

/** PHP stream wrappers that read local files or run code when passed to include()/file_get_contents(). */
const WRAPPERS = /\b(?:php|phar|zip|compress\.zlib|compress\.bzip2|glob|expect|file|data|zlib|rar|ogg|ssh2(?:\.\w+)?):\/\//i;
/** `data:text/plain;base64,` and `php://` without slashes are what PHP accepts for include(). */
const PHP_DATA = /\bdata:(?:text\/plain|application\/x-httpd-php|text\/html)?;base64,/i;

export interface LfiExplanation {
  match: boolean;
  /** The sensitive file or the wrapper found. */
  target?: string;
}

function sensitiveFile(path: string): string | undefined {
  const lower = path.toLowerCase().replace(/[/\\]{2,}/g, (m) => m[0]!);
  for (const file of SENSITIVE_FILES) {
    for (let at = lower.indexOf(file); at >= 0; at = lower.indexOf(file, at + 1)) {
      // The name must start a path component: `/etc/passwd`, `..\\boot.ini`, `=win.ini`, not `kwin.ini`.
      const before = at === 0 ? '' : lower[at - 1]!;
      const separator = before === '/' || before === '\\';
      if (separator || (!NEEDS_SEPARATOR.has(file) && (before === '' || before === '=' || before === ':'))) return file;
    }
  }
  return undefined;
}

export function explainLfi(value: string): LfiExplanation {
  const decoded = normalizePath(formDecode(value));
  const wrapper = WRAPPERS.exec(decoded) ?? PHP_DATA.exec(decoded);
  if (wrapper !== null) return { match: true, target: wrapper[0].toLowerCase() };
  const file = sensitiveFile(decoded);
  return file === undefined ? { match: false } : { match: true, target: file };
}

/** True when `value` asks for a sensitive local file or reads one through a stream wrapper. */
export function lfi(value: string): boolean {
  return explainLfi(value).match;
}

/** Parameter names that applications pass to include(), require(), file_get_contents() and template loaders. */
const INCLUDE_PARAMS = /^(?:.*_)?(?:include|inc|require|file|filename|page|pg|path|template|tpl|dir|doc|document|folder|root|load|module|mod|lang|language|conf|config|view|layout|skin|theme|site|show|cat|action|board|content|url|src|source|style|pdf|read|data)(?:_.*|\d*)$/i;

/** A URL of a scheme include() fetches remotely. */
const REMOTE_URL = /^\s*(?:https?|ftps?|php|data|expect|gopher|dict|ldap):\/\/([^/?#\s]*)/i;
const UNC_PATH = /^\s*\\\\[a-z0-9._-]+\\[^\\]/i;
const IP_HOST = /^(?:[^@]*@)?(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?$|^(?:[^@]*@)?\[[0-9a-f:.]+\](?::\d+)?$|^(?:[^@]*@)?\d{8,10}(?::\d+)?$|^(?:[^@]*@)?0x[0-9a-f]{8}(?::\d+)?$/i;

export interface RfiExplanation {
  match: boolean;
  param?: string;
  url?: string;
}

/** Whether one parameter (name and decoded value) pulls in a remote file. */
function remoteInclusion(name: string | undefined, text: string): boolean {
  if (UNC_PATH.test(text)) return true;
  const url = REMOTE_URL.exec(text);
  if (url === null) return false;
  const host = url[1] ?? '';
  if (name !== undefined && INCLUDE_PARAMS.test(name)) return true;
  if (IP_HOST.test(host)) return true;
  // `http://evil/shell.txt?` or `…%00`: the suffix the application appends becomes a query or is cut off.
  const trimmed = text.trimEnd();
  return trimmed.endsWith('?') || trimmed.includes('\u0000') || /\?+$/.test(trimmed);
}

export function explainRfi(value: string): RfiExplanation {
  for (const candidate of inputCandidates(value)) {
    if (remoteInclusion(candidate.param, candidate.text)) {
      return { match: true, param: candidate.param, url: candidate.text.trim().slice(0, 200) };
    }
  }
  return { match: false };
}

/** True when `value` hands a remote URL to an include-like parameter, or carries a URL only RFI would write. */
export function rfi(value: string): boolean {
  return explainRfi(value).match;
}
