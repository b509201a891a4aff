// Reads a JUnit XML file with test-results-parser and prints its totals as
// JSON. Used by internal/validate.
'use strict';
const { parse } = require('test-results-parser');

const r = parse({ type: 'junit', files: [process.argv[2]] });
process.stdout.write(JSON.stringify({
  total: r.total, passed: r.passed, failed: r.failed, errors: r.errors, skipped: r.skipped, status: r.status,
  cases: r.suites.flatMap((s) => s.cases.map((c) => ({ name: c.name, status: c.status }))),
}) + '\n');
