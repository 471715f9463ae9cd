#!/usr/bin/env bash
# `npm run fuzz`: every property-based test with VIGIL_FUZZ_SCALE times its usual number of cases (default 35:
# about 30,000 cases at scale 1, so about a million). CI runs them at scale 1 as part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export VIGIL_FUZZ_SCALE="${VIGIL_FUZZ_SCALE:-35}"
mapfile -t files < <(grep -rl "from 'fast-check'" src test --include='*.test.ts' | sort)
echo "fuzz: ${#files[@]} files of property tests at ${VIGIL_FUZZ_SCALE}x their cases"
exec node --import tsx --import ./scripts/fuzz-setup.ts --test --test-reporter=spec --test-timeout=0 "${files[@]}"
