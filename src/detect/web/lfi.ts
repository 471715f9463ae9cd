// File inclusion. Local (LFI): a value that is a path to a system file an application never serves (`/etc/passwd`,
// `win.ini`, `/proc/self/environ`, `WEB-INF/web.xml`, `/.git/config`) or reads one through a PHP stream wrapper
// (`php://filter`). Remote (RFI): a URL handed to a parameter an application includes (`page=`, `file=`,
// `include=`), or a URL only an inclusion attack writes (an IP address host, a trailing `?` that cuts off the suffix
// the application appends, a UNC share, a scheme such as `gopher://` or `jar:`).
import { inputCandidates } from './decode.js';
import { normalizePath } from './traversal.js';

/**
 * Files whose path in a request means someone is after them: credentials, process data, OS configuration, server
 * and application configuration and logs, shell histories, keys and repository metadata (after OWASP CRS
 * lfi-os-files.data and restricted-files.data, shortened to what is common).
 */
const SENSITIVE_FILES = [
  'etc/passwd', 'etc/shadow', 'etc/group', 'etc/gshadow', 'etc/hosts', 'etc/issue', 'etc/motd', 'etc/hostname',
  'etc/crontab', 'etc/sudoers', 'etc/master.passwd', 'etc/security/passwd', 'etc/subuid', 'etc/subgid',
  'etc/httpd/', 'etc/apache2/', 'etc/nginx/', 'etc/mysql/my.cnf', 'etc/my.cnf', 'etc/php.ini', 'etc/php/',
  'etc/ssh/', 'etc/resolv.conf', 'etc/fstab', 'etc/environment', 'etc/profile', 'etc/inetd.conf',
  'etc/network/interfaces', 'etc/redhat-release', 'etc/lsb-release', 'etc/os-release', 'etc/shells',
  'proc/self/', 'proc/version', 'proc/cpuinfo', 'proc/meminfo', 'proc/mounts', 'proc/net/', 'proc/sched_debug',
  'proc/interrupts', 'proc/1/', 'sys/class/', 'sys/kernel/', 'sys/power/', 'var/log/apache', 'var/log/httpd',
  'var/log/nginx', 'var/log/auth.log', 'var/log/secure', 'var/log/messages', 'var/log/syslog', 'var/mail/',
  'var/spool/cron', 'usr/local/apache', '.bash_history', '.bashrc', '.zsh_history', '.ssh/', 'id_rsa', 'id_dsa',
  'id_ecdsa', 'id_ed25519', '.htpasswd', '.htaccess', '.mysql_history', '.psql_history', '.git/', '.svn/',
  '.hg/', '.aws/', '.docker/', '.kube/config', '.npmrc', '.pypirc', '.netrc', '.pgpass', '.env',
  'web-inf/web.xml', 'web-inf/classes', 'meta-inf/manifest.mf', 'boot.ini', 'win.ini', 'system.ini',
  'windows/system32', 'winnt/system32', 'windows\\system32', 'winnt\\system32', 'windows/repair',
  'inetpub/', 'inetpub\\', 'system32/drivers/etc', 'system32\\drivers\\etc', 'repair/sam', 'repair\\sam',
  'config/sam', 'config\\sam', 'wp-config.php', 'configuration.php', 'localsettings.php', 'config.inc.php',
  'web.config', 'applicationhost.config', 'php.ini', 'my.ini', 'httpd.conf', 'nginx.conf', 'global.asa',
  'wp-content/debug.log',
];

/** Entries that are ordinary names on their own: they count only as a path component (`/web.config`). */
const NEEDS_SEPARATOR = new Set(['inetpub/', 'inetpub\\', 'web.config', 'php.ini', 'my.ini', 'httpd.conf',
  'nginx.conf', 'etc/hosts', 'etc/issue', 'etc/motd', 'etc/profile', 'etc/environment', 'etc/shells', 'global.asa',
  'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', '.env']);

/** Entries that must end there (`/.env`, not `/.envoy`; `/.git/…` may go on). */
const WHOLE_NAME = new Set(['.env', '.npmrc', '.pypirc', '.netrc', '.pgpass', '.htaccess', '.htpasswd', 'id_rsa',
  'id_dsa', 'id_ecdsa', 'id_ed25519', '.bashrc', '.bash_history', 'win.ini', 'boot.ini', 'system.ini']);

/**
 * PHP stream wrappers that read local files or run code when passed to include() or file_get_contents(), at the
 * start of a value (or after `=`): a path that merely contains `file://` is a broken link, not an inclusion.
 */
const WRAPPERS = new RegExp(String.raw`(?:^[\s"']*|[=(])(?:` + [
  String.raw`(?:php|phar|zip|compress\.zlib|compress\.bzip2|glob|expect|file|zlib|rar|ogg|ssh2(?:\.\w+)?):\/\/`,
  String.raw`php:\/?filter`,
  String.raw`data:(?:text\/plain|application\/x-httpd-php)?;base64,`,
].join('|') + ')', 'i');

/** A one-character glob class is that character: `/etc/pa[s]swd`. */
const GLOB_CLASS = /\[([a-z0-9./_-])\]/gi;

function isBoundary(c: string): boolean {
  return c === '' || c === ' ' || c === '=' || c === ':' || c === '"' || c === "'" || c === '(' || c === ',' || c === ';';
}

/**
 * The sensitive file a path names, if any. The name must start a path component (`/etc/passwd`, `..\boot.ini`,
 * `=win.ini`; not `kwin.ini`), and the path must be the value itself, not a mention in a sentence: the run of
 * non-space text holding it starts the value or follows `=`, a quote or a traversal.
 */
/** SENSITIVE_FILES by the code of their first character (all ASCII), so each position is compared with a few names only. */
const FILES_BY_FIRST: (string[] | undefined)[] = new Array(128);
for (const file of SENSITIVE_FILES) (FILES_BY_FIRST[file.charCodeAt(0)] ??= []).push(file);

/** isBoundary by character code: space = : " ' ( , ; */
function isBoundaryCode(c: number): boolean {
  return c === 32 || c === 61 || c === 58 || c === 34 || c === 39 || c === 40 || c === 44 || c === 59;
}

function sensitiveFile(path: string): string | undefined {
  let lower = path.toLowerCase();
  if (lower.includes('[')) lower = lower.replace(GLOB_CLASS, '$1');
  if (lower.includes('//') || lower.includes('\\')) lower = lower.replace(/[/\\]{2,}/g, (m) => m[0]!);
  let context: PathContext | undefined;
  const n = lower.length;
  for (let at = 0; at < n; at++) {
    // A name starts a path component: at the start, after a separator, or after a boundary character.
    const b = at === 0 ? -1 : lower.charCodeAt(at - 1);
    const separator = b === 47 || b === 92;
    if (!separator && b !== -1 && !isBoundaryCode(b)) continue;
    const c = lower.charCodeAt(at);
    const files = c < 128 ? FILES_BY_FIRST[c] : undefined;
    if (files === undefined) continue;
    for (const file of files) {
      if (!lower.startsWith(file, at)) continue;
      if (!separator && NEEDS_SEPARATOR.has(file)) continue;
      if (WHOLE_NAME.has(file) && /[a-z0-9_.-]/.test(lower[at + file.length] ?? '')) continue;
      context ??= pathContext(lower);
      // The non-space run that holds the name must start the value, or follow a quote, `=`, `(` or a traversal.
      const runStart = context.runStart[at]!;
      if (runStart <= context.firstNonSpace || context.lastMarker[at]! >= runStart) return file;
    }
  }
  return undefined;
}

interface PathContext {
  firstNonSpace: number;
  /** For each index, where its run of non-space characters starts. */
  runStart: Int32Array;
  /** For each index, the last position before it of a quote, `=`, `(`, `../` or `file:` (-1 if none). */
  lastMarker: Int32Array;
}

function pathContext(s: string): PathContext {
  const n = s.length;
  const runStart = new Int32Array(n + 1);
  const lastMarker = new Int32Array(n + 1);
  let start = 0;
  let marker = -1;
  let firstNonSpace = n;
  for (let i = 0; i <= n; i++) {
    runStart[i] = start;
    lastMarker[i] = marker;
    if (i === n) break;
    const c = s[i]!;
    if (/\s/.test(c)) start = i + 1;
    else if (firstNonSpace === n) firstNonSpace = i;
    if (c === '"' || c === "'" || c === '=' || c === '(' || (c === '.' && s[i + 1] === '.' && (s[i + 2] === '/' || s[i + 2] === '\\'))
      || (c === ':' && s.slice(i - 4, i) === 'file')) marker = i;
  }
  return { firstNonSpace, runStart, lastMarker };
}

export interface LfiExplanation {
  match: boolean;
  /** The sensitive file or the wrapper found. */
  target?: string;
  param?: string;
}

export function explainLfi(value: string): LfiExplanation {
  for (const candidate of inputCandidates(value)) {
    // Every wrapper has a `:`, every file name a `/`, `\` or `.`.
    if (!/[/\\.:]/.test(candidate.text)) continue;
    const decoded = normalizePath(candidate.text);
    const wrapper = WRAPPERS.exec(decoded);
    if (wrapper !== null) return { match: true, target: wrapper[0].replace(/^[^a-z]+/i, '').toLowerCase(), param: candidate.param };
    const file = sensitiveFile(decoded);
    if (file !== undefined) return { match: true, target: file, param: candidate.param };
  }
  return { match: false };
}

/** True when `value` asks for a sensitive local file or reads one through a stream wrapper. */
export function lfi(value: string): boolean {
  return explainLfi(value).match;
}

/**
 * Parameter names that applications pass to include(), require() and template loaders (words of the name, so
 * `_CONF[path]` and `template_file` count), after OWASP CRS rule 931110 and the PHP applications it lists.
 */
const INCLUDE_WORDS = new Set(['include', 'inc', 'require', 'file', 'filename', 'page', 'pg', 'path', 'template',
  'tpl', 'dir', 'doc', 'document', 'folder', 'root', 'load', 'module', 'mod', 'lang', 'language', 'conf', 'config',
  'layout', 'skin', 'theme', 'style', 'pdf', 'read', 'basedir', 'docroot', 'absolute', 'appserv', 'gallery']);

/** A URL of a scheme include() or an HTTP client fetches remotely. */
const REMOTE_URL = /^\s*(?:https?|ftps?):\/\/([^/?#\s]*)/i;
/** Schemes no ordinary parameter carries: server-side request forgery and Java's archive and file handlers. */
const ODD_SCHEME = /^\s*(?:gopher|dict|ldap|tftp|netdoc|jar|local_file|url:file):/i;
const UNC_PATH = /^\s*\\\\[a-z0-9._-]+\\[^\\]/i;
const IP_HOST = /^(?:[^@]*@)?(?:(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:.]+\]|\d{8,10}|0x[0-9a-f]{8})(?::\d+)?$/i;

export interface RfiExplanation {
  match: boolean;
  param?: string;
  url?: string;
}

function includeLikeName(name: string | undefined): boolean {
  if (name === undefined) return false;
  return name.toLowerCase().split(/[^a-z]+/).some((word) => INCLUDE_WORDS.has(word));
}

/** Whether one parameter (name and decoded value) pulls in a remote file. */
function remoteInclusion(name: string | undefined, text: string): boolean {
  if (UNC_PATH.test(text) || ODD_SCHEME.test(text)) return true;
  const url = REMOTE_URL.exec(text);
  if (url === null) return false;
  if (includeLikeName(name)) return true;
  if (IP_HOST.test(url[1] ?? '')) return true;
  // `http://evil/shell.txt?` or `…%00`: the suffix the application appends becomes a query or is cut off.
  const trimmed = text.trimEnd();
  return trimmed.endsWith('?') || trimmed.includes('\u0000');
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
