// OS command injection: a shell separator (`;`, `|`, `&`, `&&`, `||`, newline) or a command substitution (`` `…` ``,
// `$(…)`, `<(…)`) followed by a command, after undoing the usual shell evasions (`${IFS}` for spaces, `c'a't`,
// `c\at`, `/bin/cat`, `/bi[n]/cat`). Commands that are also English words (cat, id, sleep…) count only with a
// shell-like argument. Also: server-side include directives, PHP's exec functions, Windows `for … in (…) do`.
// A back-quoted span inside prose (`run \`ls -la\` and see`) is Markdown, not a substitution, and is skipped.
import { formDecode } from './decode.js';

/** Commands an attacker runs and an ordinary text does not write after a `;` or `|`. */
const STRONG = new Set([
  'whoami', 'uname', 'wget', 'curl', 'nc', 'ncat', 'netcat', 'socat', 'bash', 'sh', 'zsh', 'ksh', 'csh', 'tcsh',
  'python', 'python2', 'python3', 'perl', 'php', 'ruby', 'powershell', 'pwsh', 'cmd', 'ipconfig', 'ifconfig',
  'nslookup', 'netstat', 'systeminfo', 'tasklist', 'taskkill', 'certutil', 'bitsadmin', 'mshta', 'rundll32',
  'regsvr32', 'wmic', 'busybox', 'base64', 'xxd', 'telnet', 'tftp', 'chmod', 'chown', 'useradd', 'usermod',
  'crontab', 'nohup', 'hostname', 'ping', 'traceroute', 'sudo', 'mkfifo', 'lsof', 'getent', 'echo', 'printf',
  'gcc', 'ssh', 'scp', 'nmap', 'net1', 'reg', 'schtasks', 'vssadmin', 'icacls', 'cscript', 'wscript',
  // PowerShell cmdlets and their aliases.
  'iwr', 'iex', 'irm', 'iwmi', 'invoke-webrequest', 'invoke-expression', 'invoke-restmethod', 'invoke-wmimethod',
  'start-process', 'new-object', 'invoke-command', 'get-content', 'set-content', 'start-bitstransfer',
]);

/** Commands that are also words; they need an argument that looks like a shell's. */
const WEAK = new Set([
  'cat', 'ls', 'id', 'sleep', 'type', 'dir', 'find', 'head', 'tail', 'more', 'less', 'sort', 'kill', 'time', 'date',
  'host', 'net', 'who', 'rm', 'cp', 'mv', 'touch', 'which', 'pwd', 'env', 'set', 'ver', 'expr', 'grep', 'awk', 'sed',
  'wc', 'ps', 'df', 'du', 'tar', 'copy', 'del', 'mkdir', 'rmdir', 'eval', 'exec', 'export', 'source', 'ftp', 'ln',
  'file', 'stat', 'dd', 'od', 'tee', 'xargs', 'nl', 'tac', 'rev', 'strings', 'uniq', 'cut', 'w', 'last', 'whois',
  'dig', 'su', 'shutdown', 'reboot', 'start', 'call', 'systemctl', 'service', 'mount', 'tr', 'fold', 'true', 'false',
]);

/** `${IFS}`, `$IFS$9` and `{IFS}` stand for a space in shell payloads. */
const IFS = /\$\{IFS(?:%\?\?)?\}|\$IFS(?:\$\d)?|\{IFS\}/gi;
/** Quotes and backslashes inside a word (`c'a't`, `c"a"t`, `c\at`) and `$@` disappear when the shell reads it. */
const WORD_NOISE = /(?<=[a-z0-9])(?:''|""|['"\\]|\$@|\$\*)(?=[a-z0-9])/gi;
/** A one-character glob class is that character: `/etc/pa[s]swd`. */
const GLOB_CLASS = /\[([a-z0-9./_-])\]/gi;

/** The text as a shell would see the words in it. */
export function normalizeShell(value: string): string {
  return formDecode(value).replace(IFS, ' ').replace(GLOB_CLASS, '$1').replace(WORD_NOISE, '').toLowerCase();
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12;
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** Characters that end a command word. */
function endsWord(c: number): boolean {
  return isSpace(c) || c === 10 || c === 13 || c === 59 || c === 124 || c === 38 || c === 60 || c === 62
    || c === 96 || c === 41 || c === 36 || c === 44 || c === 39 || c === 34 || c === 125 || c === 0;
}

/** Shell metacharacters that end one command and start another. */
function isMeta(c: number): boolean {
  return c === 59 || c === 124 || c === 38 || c === 60 || c === 62 || c === 96 || c === 41 || c === 10 || c === 13
    || c === 0 || c === 125;
}

/**
 * An argument that only a shell would write: a path, an option, a variable, a number, a quote, a redirection or a
 * drive (`c:`), or nothing at all.
 */
function shellArgument(s: string, from: number): boolean {
  let i = from;
  if (i >= s.length) return true;
  const first = s.charCodeAt(i);
  if (isMeta(first) || first === 44) return true; // `,`: {cat,/etc/passwd}
  if (!isSpace(first)) return false;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (i >= s.length) return true;
  const c = s.charCodeAt(i);
  if (isLetter(c) && s.charCodeAt(i + 1) === 58) {
    const after = i + 2 >= s.length ? 32 : s.charCodeAt(i + 2);
    return isSpace(after) || after === 47 || after === 92 || after === 34 || after === 39 || isMeta(after);
  }
  return c === 47 || c === 92 || c === 45 || c === 46 || c === 36 || c === 126 || c === 39 || c === 34 || c === 42
    || (c >= 48 && c <= 57) || isMeta(c);
}

interface Found {
  command: string;
  at: number;
}

type Position = 'start' | 'separator' | 'substitution';

/** The command that follows position `from`, if it is one an injection would run there. */
function commandAt(s: string, from: number, position: Position): Found | undefined {
  let i = from;
  while (i < s.length && (isSpace(s.charCodeAt(i)) || s.charCodeAt(i) === 123 || s.charCodeAt(i) === 40)) i++;
  const start = i;
  while (i < s.length && !endsWord(s.charCodeAt(i)) && i - start < 128) i++;
  if (i === start) return undefined;
  let word = s.slice(start, i);
  // /bin/cat, /usr/bin/wget, c:\windows\system32\cmd.exe
  const slash = Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\'));
  if (slash >= 0) word = word.slice(slash + 1);
  if (word.endsWith('.exe')) word = word.slice(0, -4);
  const known = STRONG.has(word) || WEAK.has(word);
  if (!known) return undefined;
  if (position === 'substitution') return { command: word, at: start };
  if (position === 'start') {
    // A value that is itself a command line: only with an argument no search box sees (`ls -la`, `cat /etc/x`).
    return i < s.length && shellArgument(s, i) && !/^\s+\d/.test(s.slice(i, i + 3)) ? { command: word, at: start } : undefined;
  }
  if (STRONG.has(word) || shellArgument(s, i)) return { command: word, at: start };
  return undefined;
}

/** Blanks back-quoted spans that sit inside prose (Markdown code), keeping offsets. */
function blankProseCode(s: string): string {
  let out = '';
  let copied = 0;
  let open = s.indexOf('`');
  while (open >= 0) {
    const close = s.indexOf('`', open + 1);
    if (close < 0) break;
    const before = open >= 2 && isSpace(s.charCodeAt(open - 1)) && /[a-z0-9,.:!?)]/.test(s[open - 2]!);
    const after = close + 2 < s.length && isSpace(s.charCodeAt(close + 1)) && isLetter(s.charCodeAt(close + 2));
    if (before || after) {
      out += s.slice(copied, open) + ' '.repeat(close - open + 1);
      copied = close + 1;
    }
    open = s.indexOf('`', close + 1);
  }
  return copied === 0 ? s : out + s.slice(copied);
}

/** Server-side include directives that run commands or read files (`<!--#exec cmd="…"-->`). */
const SSI = /<!--\s*#\s*(?:exec|include|echo|config|set|printenv)\b/;
/** PHP functions that run a command, called with a string or variable argument. */
const PHP_EXEC = /(?:^|[^\w$>])(?:system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec)\s{0,3}\(\s{0,3}["'$`]/;
/** Windows `for [/d|/r|/l|/f ["options"]] %x in (set) do command`. */
const FOR_LOOP = /(?:^|[\s&|;])for\s+(?:\/[dlrf]\s+)*(?:"[^"]{0,80}"\s+)?%%?[^\s]{1,2}\s+in\s*\(/;
/** A value that is the path of a system binary: `/usr/bin/id`, `/bin/sh`. */
const BINARY_PATH = /^\s*\/(?:usr\/(?:local\/)?)?s?bin\/[a-z0-9_.-]+(?:\s|$)/;

export interface CmdiExplanation {
  match: boolean;
  command?: string;
  /** The normalized text around the command. */
  evidence?: string;
}

function findCommand(raw: string): Found | undefined {
  const s = blankProseCode(raw);
  const n = s.length;
  const first = commandAt(s, 0, 'start');
  if (first !== undefined) return first;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let after = -1;
    let position: Position = 'separator';
    if (c === 59 || c === 124 || c === 38 || c === 10 || c === 13) after = i + 1;
    else if (c === 96) {
      after = i + 1;
      position = 'substitution';
    } else if ((c === 36 || c === 60 || c === 62) && s.charCodeAt(i + 1) === 40) {
      after = i + 2;
      position = 'substitution';
    }
    if (after < 0) continue;
    // Skip the second character of a doubled separator (`&&`, `||`).
    if (after < n && s.charCodeAt(after) === c) after++;
    const found = commandAt(s, after, position);
    if (found !== undefined) return found;
  }
  const patterns = [[SSI, 'server-side include'], [PHP_EXEC, 'php exec'], [FOR_LOOP, 'for loop'],
    [BINARY_PATH, 'binary path']] as const;
  for (const [pattern, command] of patterns) {
    const m = pattern.exec(s);
    if (m !== null) return { command, at: m.index };
  }
  return undefined;
}

export function explainCmdi(value: string): CmdiExplanation {
  const s = normalizeShell(value);
  const found = findCommand(s);
  if (found === undefined) return { match: false };
  return { match: true, command: found.command, evidence: s.slice(Math.max(0, found.at - 8), found.at + 40) };
}

/** True when `value` carries a shell command after a separator or inside a command substitution. */
export function cmdi(value: string): boolean {
  return findCommand(normalizeShell(value)) !== undefined;
}
