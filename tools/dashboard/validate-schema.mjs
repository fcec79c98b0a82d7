// Validates Grafana dashboard JSON files against the Dashboard type that Grafana publishes in
// @grafana/schema (converted to JSON Schema by ts-json-schema-generator, checked with ajv).
// Usage: node tools/dashboard/validate-schema.mjs <dashboard.json>...
// The generated schema is cached in <repo>/.cache/dashboard/ keyed by the @grafana/schema version.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const Ajv = require("ajv");
const addFormats = require("ajv-formats");
const tsj = require("ts-json-schema-generator");

const schemaPkg = JSON.parse(fs.readFileSync(path.join(here, "node_modules/@grafana/schema/package.json"), "utf8"));
const cacheDir = path.join(here, "../../.cache/dashboard");
const schemaFile = path.join(cacheDir, `dashboard.schema.${schemaPkg.version}.json`);

let schema;
if (fs.existsSync(schemaFile)) {
  schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
} else {
  const t0 = Date.now();
  schema = tsj.createGenerator({
    path: path.join(here, "node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts"),
    type: "Dashboard",
    skipTypeCheck: true,
    additionalProperties: true,
  }).createSchema("Dashboard");
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(schemaFile, JSON.stringify(schema, null, 2));
  console.log(`generated the Dashboard JSON schema from @grafana/schema ${schemaPkg.version} in ${Date.now() - t0} ms`);
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: validate-schema.mjs <dashboard.json>...");
  process.exit(2);
}
let bad = 0;
for (const f of files) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(f, "utf8"));
  } catch (e) {
    console.error(`FAIL ${f}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  if (validate(doc)) {
    console.log(`ok   ${f} is a valid Dashboard (@grafana/schema ${schemaPkg.version})`);
  } else {
    bad++;
    console.error(`FAIL ${f}:`);
    for (const e of validate.errors) console.error(`  ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
}
process.exit(bad ? 1 : 0);
