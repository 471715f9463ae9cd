// Web attack detectors for access-log fields: each takes one field value (a query string, a path, a User-Agent)
// and answers whether it carries that attack. Pure, linear-time, never throwing. The rule engine exposes them as
// Sigma value modifiers (`cs-uri-query|vigil.sqli: true`); the `explain*` variants say why, for alerts.
import { cmdi, explainCmdi } from './cmdi.js';
import { explainJndi, jndi } from './jndi.js';
import { explainLfi, explainRfi, lfi, rfi } from './lfi.js';
import { explainScanner, scanner } from './scanner.js';
import { explainSqli, sqli } from './sqli.js';
import { explainTraversal, traversal } from './traversal.js';
import { explainXss, xss } from './xss.js';

export { cmdi, explainCmdi } from './cmdi.js';
export { explainJndi, jndi } from './jndi.js';
export { explainLfi, explainRfi, lfi, rfi } from './lfi.js';
export { explainScanner, scanner } from './scanner.js';
export { explainSqli, sqli } from './sqli.js';
export { explainTraversal, traversal } from './traversal.js';
export { explainXss, xss } from './xss.js';

/** The detectors by name: the name is the Sigma modifier `vigil.<name>`. */
export const webDetectors = {
  sqli,
  xss,
  traversal,
  cmdi,
  lfi,
  rfi,
  jndi,
  scanner,
} satisfies Record<string, (value: string) => boolean>;

export type WebDetectorName = keyof typeof webDetectors;

/** What each detector found, for an alert's details; `match` is the detector's answer. */
export const webExplainers = {
  sqli: explainSqli,
  xss: explainXss,
  traversal: explainTraversal,
  cmdi: explainCmdi,
  lfi: explainLfi,
  rfi: explainRfi,
  jndi: explainJndi,
  scanner: explainScanner,
} satisfies Record<WebDetectorName, (value: string) => { match: boolean }>;
