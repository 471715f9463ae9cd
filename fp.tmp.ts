import { readFileSync } from 'node:fs';
import { explainSqli, webDetectors } from './src/detect/web/index.js';
const lines = readFileSync('/work/shared/datasets/payloads/libinjection/false_positives.txt', 'latin1').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l && !l.startsWith('#'));
let n = 0;
for (const l of lines) { for (const [name, d] of Object.entries(webDetectors)) if (d(l)) { n++; console.log(name, JSON.stringify(l), name === 'sqli' ? JSON.stringify(explainSqli(l)) : ''); } }
console.log(lines.length, n);
