// tsc does not copy .d.ts sources into outDir, and dist/index.d.ts imports "./schema.js".
import { copyFile } from "node:fs/promises";

await copyFile(new URL("../src/schema.d.ts", import.meta.url), new URL("../dist/schema.d.ts", import.meta.url));
