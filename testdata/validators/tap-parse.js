// Reads a TAP stream on stdin with node-tap's tap-parser (strict mode) and
// prints, as JSON, the final results and every test point with its
// directive and YAML diagnostics. Used by internal/validate.
'use strict';
const { Parser } = require('tap-parser');

const points = [];
const extra = [];
const comments = [];
const parser = new Parser({ strict: true }, (final) => {
  process.stdout.write(JSON.stringify({
    ok: final.ok, count: final.count, pass: final.pass, fail: final.fail,
    todo: final.todo, skip: final.skip, bailout: final.bailout,
    plan: { start: final.plan.start, end: final.plan.end },
    failures: (final.failures || []).map((f) => ({ id: f.id, name: f.name, tapError: f.tapError || null })),
    points, extra, comments,
  }) + '\n');
});
parser.on('assert', (a) => {
  points.push({ ok: a.ok, id: a.id, name: a.name, todo: a.todo || false, skip: a.skip || false, diag: a.diag || null });
});
parser.on('extra', (line) => extra.push(line));
parser.on('comment', (line) => comments.push(line.replace(/\n$/, '')));
process.stdin.pipe(parser);
