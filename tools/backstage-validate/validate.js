#!/usr/bin/env node
// backstage-validate FILE... (or - for stdin): checks every document of each YAML
// stream as the Backstage catalog backend does when it ingests a url location: the
// entity policies (schema, default namespace, no foreign root fields, field formats)
// and the validator of the entity's kind, all from @backstage/catalog-model. Prints one
// line per problem and exits 1 when there is any, 2 on bad usage.
'use strict';
const fs = require('fs');
const YAML = require('yaml');
const m = require('@backstage/catalog-model');

const policy = m.EntityPolicies.allOf([
  new m.SchemaValidEntityPolicy(),
  new m.DefaultNamespaceEntityPolicy(),
  new m.NoForeignRootFieldsEntityPolicy(),
  new m.FieldFormatEntityPolicy(),
]);
const kinds = {
  api: m.apiEntityV1alpha1Validator,
  component: m.componentEntityV1alpha1Validator,
  domain: m.domainEntityV1alpha1Validator,
  group: m.groupEntityV1alpha1Validator,
  location: m.locationEntityV1alpha1Validator,
  resource: m.resourceEntityV1alpha1Validator,
  system: m.systemEntityV1alpha1Validator,
  user: m.userEntityV1alpha1Validator,
};

async function check(name, text) {
  const problems = [];
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  let n = 0;
  for (const doc of docs) {
    n++;
    if (doc.errors.length > 0) {
      problems.push(`${name}: document ${n}: YAML: ${doc.errors[0].message}`);
      continue;
    }
    const entity = doc.toJS();
    if (entity === null || entity === undefined) {
      continue; // an empty document, as after a leading ---
    }
    const where = `${name}: document ${n} (${entity.kind}:${entity.metadata && entity.metadata.name})`;
    try {
      const out = await policy.enforce(JSON.parse(JSON.stringify(entity)));
      if (!out) throw new Error('rejected by the entity policies');
      const v = kinds[String(entity.kind).toLowerCase()];
      if (!v) throw new Error(`unknown kind ${entity.kind}`);
      if ((await v.check(entity)) !== true) throw new Error(`not a valid ${entity.kind} entity`);
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
  }
  return { problems, count: n };
}

async function main() {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: backstage-validate FILE... (- for stdin)');
    process.exit(2);
  }
  let bad = 0;
  for (const f of files) {
    const text = fs.readFileSync(f === '-' ? 0 : f, 'utf8');
    const { problems, count } = await check(f === '-' ? 'stdin' : f, text);
    for (const p of problems) console.log(p);
    bad += problems.length;
    console.error(`${f}: ${count} documents, ${problems.length} problems`);
  }
  process.exit(bad > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(2);
});
