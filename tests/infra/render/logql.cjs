// Parses each LogQL expression of a JSON list on stdin with Grafana's LogQL grammar
// (npm @grafana/lezer-logql, the parser of Grafana's Loki query editor); prints one JSON
// line per expression with the offsets of its syntax errors, and exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { parser } = require(process.env.LOGQL_MODULE);

let broken = 0;
for (const expr of JSON.parse(readFileSync(0, "utf8"))) {
  const errors = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  broken += errors.length ? 1 : 0;
  console.log(JSON.stringify({ expr, errors }));
}
process.exit(broken ? 1 : 0);
