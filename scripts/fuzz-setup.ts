// Preloaded by `npm run fuzz`: properties that name no case count run 100 × VIGIL_FUZZ_SCALE cases.
import fc from 'fast-check';
import { runs } from '../src/testing/fuzz.js';

fc.configureGlobal({ numRuns: runs(100), interruptAfterTimeLimit: undefined });
