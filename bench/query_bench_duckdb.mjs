// bench/query_bench_duckdb.mjs - the DuckDB side of bench/query_bench.py.
//
// Reads a JSON spec on stdin:
//   {"glob": ".../raw/events/**/*.gz", "threads": 2, "runs": 3,
//    "queries": [["Q1", "SELECT ..."], ...]}
// makes the view `events` over the lake objects (hive-partitioned
// NDJSON.gz, the schema of firelake's enriched events given explicitly,
// as the Glue table gives it to firelake; partition values as text, as in
// firelake), runs each query once ("first") and then `runs` times, reading
// every row, and prints one JSON object on stdout:
//   {"times": {"Q1": {"first": s, "runs": [s, ...]}}, "results": {"Q1": [[...]]},
//    "version": "...", "peak_rss_mib": n}
// @duckdb/node-api is found through NODE_PATH (a scratch node_modules; ES
// modules ignore NODE_PATH, so it is loaded with createRequire).
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const modules = (process.env.NODE_PATH || '').split(':').filter(Boolean);
let duckdb = null;
for (const dir of modules.concat([process.cwd() + '/node_modules'])) {
	try {
		duckdb = createRequire(path.join(dir, 'noop.js'))('@duckdb/node-api');
		break;
	} catch (e) {
		if (e.code !== 'MODULE_NOT_FOUND')
			throw e;
	}
}
if (!duckdb) {
	console.error('@duckdb/node-api not found (set NODE_PATH to its node_modules)');
	process.exit(1);
}

let input = '';
for await (const chunk of process.stdin)
	input += chunk;
const spec = JSON.parse(input);

const quote = (s) => "'" + s.replaceAll("'", "''") + "'";
const instance = await duckdb.DuckDBInstance.create(':memory:', { threads: String(spec.threads) });
const conn = await instance.connect();
await conn.run(`CREATE VIEW events AS SELECT * FROM read_json(${quote(spec.glob)},
	format = 'newline_delimited', compression = 'gzip',
	hive_partitioning = true, hive_types_autocast = false,
	columns = {event_uuid: 'VARCHAR', event_name: 'VARCHAR', created_at: 'BIGINT',
		   payload: 'STRUCT(amount DOUBLE, currency VARCHAR, items BIGINT)',
		   created_datetime: 'TIMESTAMP', event_subtype: 'VARCHAR'})`);

const out = { times: {}, results: {} };
const version = await conn.runAndReadAll('SELECT version()');
out.version = String(version.getRows()[0][0]);

async function timed(sql) {
	const t0 = performance.now();
	const reader = await conn.runAndReadAll(sql);
	const rows = reader.getRows();
	const s = (performance.now() - t0) / 1000;
	return [s, rows.map((r) => r.map((v) => (v === null ? null : String(v))))];
}

for (const [name, sql] of spec.queries) {
	const [first, rows] = await timed(sql);
	const runs = [];
	for (let i = 0; i < spec.runs; i++)
		runs.push((await timed(sql))[0]);
	out.times[name] = { first, runs };
	out.results[name] = rows;
	console.error(`== duckdb ${name}: first ${first.toFixed(3)} s, runs ` +
		      runs.map((s) => s.toFixed(3)).join(' '));
}
out.peak_rss_mib = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(out) + '\n');
