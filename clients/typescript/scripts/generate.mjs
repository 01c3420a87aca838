// Writes src/schema.d.ts (or the path given second) from an OpenAPI document that
// `authgate openapi` printed: `npm run generate -- openapi.json`, or AUTHGATE_OPENAPI_JSON=openapi.json.
// The pytest check regenerates into a temporary file with this same script and compares.
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const input = process.argv[2] ?? process.env.AUTHGATE_OPENAPI_JSON;
const output = process.argv[3] ?? new URL("../src/schema.d.ts", import.meta.url);
if (!input) {
  console.error("usage: npm run generate -- <openapi.json> [output]  (or set AUTHGATE_OPENAPI_JSON)");
  process.exit(2);
}

// Fields with a default stay optional: this file types the requests a client builds, too.
const ast = await openapiTS(pathToFileURL(resolve(input)), { defaultNonNullable: false });
const header = "// Regenerate: `authgate openapi > openapi.json && npm run generate -- openapi.json`\n\n";
await writeFile(output, COMMENT_HEADER + header + astToString(ast));
