// Node's snowflake-sdk against the local service: key-pair login, a table of its own, bound
// inserts and a typed query. Reads its connection settings as JSON on stdin; prints JSON.
"use strict";

const snowflake = require("snowflake-sdk");

function run(connection, sqlText, binds) {
  return new Promise((resolve, reject) => {
    connection.execute({
      sqlText,
      binds,
      complete: (err, statement, rows) => (err ? reject(err) : resolve({ statement, rows })),
    });
  });
}

// A value as JSON carries it: its JavaScript type (or class) and its text.
function plain(value) {
  if (value === null || value === undefined) return ["null", null];
  const kind = typeof value === "object" ? value.constructor.name : typeof value;
  return [kind, typeof value === "object" && value.toJSON ? value.toJSON() : String(value)];
}

async function main(settings) {
  snowflake.configure({ logLevel: "ERROR", disableOCSPChecks: true });
  const connection = snowflake.createConnection({
    account: settings.account,
    username: settings.username,
    accessUrl: settings.accessUrl,
    authenticator: "SNOWFLAKE_JWT",
    privateKey: settings.privateKey,
    database: settings.database,
    role: settings.role,
    warehouse: settings.warehouse,
  });
  await new Promise((resolve, reject) => connection.connect((err) => (err ? reject(err) : resolve())));
  await run(connection, `CREATE SCHEMA ${settings.schema}`);
  await run(connection, `USE SCHEMA ${settings.schema}`);
  await run(
    connection,
    "CREATE TABLE ORDERS_NODE (ID NUMBER(10,0), AMOUNT NUMBER(10,2), NAME VARCHAR, PAID BOOLEAN, " +
      "DAY DATE, AT TIMESTAMP_NTZ, RATIO FLOAT)",
  );
  const inserted = await run(connection, "INSERT INTO ORDERS_NODE VALUES (?, ?, ?, ?, ?, ?, ?)", [
    [1, "12.50", "first", true, "2024-01-02", "2024-01-02 03:04:05", 0.25],
    [2, "7.00", "second", false, "2024-02-29", "2024-02-29 23:59:59", 1.5],
  ]);
  const { statement, rows } = await run(
    connection,
    "SELECT ID, AMOUNT, NAME, PAID, DAY, AT, RATIO FROM ORDERS_NODE WHERE ID >= ? ORDER BY ID",
    [1],
  );
  const total = await run(connection, "SELECT COUNT(*) AS N, SUM(AMOUNT) AS TOTAL FROM ORDERS_NODE");
  await new Promise((resolve) => connection.destroy(() => resolve()));
  return {
    inserted: inserted.statement.getNumUpdatedRows(),
    columns: statement.getColumns().map((c) => [c.getName(), c.getType(), c.getScale()]),
    rows: rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)]))),
    total: Object.fromEntries(Object.entries(total.rows[0]).map(([k, v]) => [k, plain(v)])),
  };
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  main(JSON.parse(input))
    .then((report) => process.stdout.write(JSON.stringify(report)))
    .catch((err) => {
      process.stderr.write(`${err.code || ""} ${err.message}\n${err.stack}\n`);
      process.exit(1);
    });
});
