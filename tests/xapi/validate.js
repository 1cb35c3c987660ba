// Validates each xAPI statement of a JSON array file with Learning Locker's xapi-validation
// (one statement per call: an array is a TypeWarning, training.md 3.4). Also checks that the
// validator rejects a broken copy of the first statement, so a validator that accepts
// anything cannot pass the test. Exit 0: every statement valid; 1: a warning; 2: bad usage.
'use strict';
const fs = require('fs');
const validate = require('xapi-validation').default;

if (process.argv.length !== 3) {
  console.error('usage: node validate.js STATEMENTS.json');
  process.exit(2);
}
const statements = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
if (!Array.isArray(statements) || statements.length === 0) {
  console.error('expected a non-empty JSON array of statements');
  process.exit(1);
}
let bad = 0;
statements.forEach((st, i) => {
  const warnings = validate(st);
  if (warnings.length !== 0) {
    bad++;
    console.error(`statement ${i + 1} (${st.verb && st.verb.id}):`);
    for (const w of warnings) console.error(`  ${w.name} at ${w.path.join('.')}`);
  }
});
const broken = JSON.parse(JSON.stringify(statements[0]));
delete broken.actor.account;
broken.result = Object.assign({}, broken.result, { score: { scaled: 1.5 } });
if (validate(broken).length === 0) {
  console.error('the validator accepted a statement without an actor IFI and with scaled 1.5');
  process.exit(1);
}
console.log(`${statements.length} statements valid (${bad} with warnings)`);
process.exit(bad === 0 ? 0 : 1);
