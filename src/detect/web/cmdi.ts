// OS command injection: a shell separator (`;`, `|`, `&`, `&&`, `||`, newline) or a command substitution (`` `…` ``,
// `$(…)`) followed by a command, after undoing the usual shell evasions (`${IFS}` for spaces, `c'a't`, `c\at`,
// `/bin/cat`). Commands that are also English words (cat, id, sleep…) count only with a shell-like argument.
import { formDecode } from './decode.js';

/** Commands an attacker runs and an ordinary text does not write after a `;` or `|`. */
const STRONG = new Set([
  'whoami', 'uname', 'wget', 'curl', 'nc', 'ncat', 'netcat', 'socat', 'bash', 'sh', 'zsh', 'ksh', 'csh', 'tcsh',
  'python', 'python2', 'python3', 'perl', 'php', 'ruby', 'powershell', 'pwsh', 'cmd', 'ipconfig', 'ifconfig',
  'nslookup', 'netstat', 'systeminfo', 'tasklist', 'taskkill', 'certutil', 'bitsadmin', 'mshta', 'rundll32',
  'regsvr32', 'wmic', 'busybox', 'base64', 'xxd', 'telnet', 'tftp', 'chmod', 'chown', 'useradd', 'usermod',
  'crontab', 'nohup', 'hostname', 'ping', 'traceroute', 'sudo', 'mkfifo', 'lsof', 'getent', 'echo', 'printf',
  'uname', 'gcc', 'ssh', 'scp', 'nmap', 'net1', 'reg', 'schtasks', 'vssadmin', 'icacls', 'cscript', 'wscript',
]);

/** Commands that are also words; they need an argument that looks like a shell's. */
const WEAK = new Set([
  'cat', 'ls', 'id', 'sleep', 'type', 'dir', 'find', 'head', 'tail', 'more', 'less', 'sort', 'kill', 'time', 'date',
  'host', 'net', 'who', 'rm', 'cp', 'mv', 'touch', 'which', 'pwd', 'env', 'set', 'ver', 'expr', 'grep', 'awk', 'sed',
  'wc', 'ps', 'df', 'du', 'tar', 'copy', 'del', 'mkdir', 'rmdir', 'eval', 'exec', 'export', 'source', 'ftp', 'ln',
  'file', 'stat', 'dd', 'od', 'tee', 'xargs', 'nl', 'tac', 'rev', 'strings', 'uniq', 'cut', 'w', 'last', 'whois',
  'dig', 'su', 'shutdown', 'reboot', 'start', 'call', 'systemctl', 'service', 'mount', 'tr', 'fold',
]);

/** `${IFS}`, `$IFS$9` and `{IFS}` stand for a space in shell payloads. */
const IFS = /\$\{IFS(?:%\?\?)?\}|\$IFS(?:\$\d)?|\{IFS\}/gi;
/** Quotes and backslashes inside a word (`c'a't`, `c"a"t`, `c\at`) and `$@` disappear when the shell reads it. */
const WORD_NOISE = /(?<=[a-z0-9])(?:''|""|['"\\]|\$@|\$\*)(?=[a-z0-9])/gi;

/** The text as a shell would see the words in it. */
export function normalizeShell(value: string): string {
  return formDecode(value).replace(IFS, ' ').replace(WORD_NOISE, '').toLowerCase();
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12;
}

/** Characters that end a command word. */
function endsWord(c: number): boolean {
  return isSpace(c) || c === 10 || c === 13 || c === 59 || c === 124 || c === 38 || c === 60 || c === 62
    || c === 96 || c === 41 || c === 36 || c === 44 || c === 39 || c === 34 || c === 125 || c === 0;
}

/** An argument that only a shell would write: a path, an option, a variable, a number, a quote or a redirection. */
function shellArgument(s: string, from: number): boolean {
  let i = from;
  if (i >= s.length) return true;
  const first = s.charCodeAt(i);
  if (first === 59 || first === 124 || first === 38 || first === 60 || first === 62 || first === 96 || first === 41
    || first === 10 || first === 13 || first === 0 || first === 125) return true;
  if (first === 44) return true; // {cat,/etc/passwd}
  if (!isSpace(first)) return false;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (i >= s.length) return true;
  const c = s.charCodeAt(i);
  return c === 47 || c === 92 || c === 45 || c === 46 || c === 36 || c === 126 || c === 96 || c === 39 || c === 34
    || (c >= 48 && c <= 57) || c === 59 || c === 124 || c === 38 || c === 60 || c === 62 || c === 42
    || (s.charCodeAt(i + 1) === 58 && s.charCodeAt(i + 2) === 92); // c:\
}

interface Found {
  command: string;
  at: number;
}

/** The command that follows position `from`, if it is one an injection would run. */
function commandAt(s: string, from: number, atStart: boolean): Found | undefined {
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
  if (atStart) {
    // A value that is itself a command line: only with an argument no search box sees (`ls -la`, `cat /etc/x`).
    if ((STRONG.has(word) || WEAK.has(word)) && i < s.length && shellArgument(s, i) && !/^\s+\d/.test(s.slice(i, i + 3))) {
      return { command: word, at: start };
    }
    return undefined;
  }
  if (STRONG.has(word)) return { command: word, at: start };
  if (WEAK.has(word) && shellArgument(s, i)) return { command: word, at: start };
  return undefined;
}

export interface CmdiExplanation {
  match: boolean;
  command?: string;
  /** The normalized text around the command. */
  evidence?: string;
}

export function explainCmdi(value: string): CmdiExplanation {
  const s = normalizeShell(value);
  const found = findCommand(s);
  if (found === undefined) return { match: false };
  return { match: true, command: found.command, evidence: s.slice(Math.max(0, found.at - 8), found.at + 40) };
}

function findCommand(s: string): Found | undefined {
  const n = s.length;
  const first = commandAt(s, 0, true);
  if (first !== undefined) return first;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let after = -1;
    if (c === 59 || c === 124 || c === 38 || c === 10 || c === 13 || c === 96) after = i + 1;
    else if (c === 36 && s.charCodeAt(i + 1) === 40) after = i + 2;
    if (after < 0) continue;
    // Skip a doubled separator (`&&`, `||`).
    while (after < n && (s.charCodeAt(after) === c)) after++;
    const found = commandAt(s, after, false);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** True when `value` carries a shell command after a separator or inside a command substitution. */
export function cmdi(value: string): boolean {
  return findCommand(normalizeShell(value)) !== undefined;
}
