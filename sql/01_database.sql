-- The kit's database and schema. Runs on a Snowflake account and on the local service
-- (which keeps AUTOMATED_INTELLIGENCE as its one database).
CREATE DATABASE IF NOT EXISTS AUTOMATED_INTELLIGENCE;
CREATE SCHEMA IF NOT EXISTS AUTOMATED_INTELLIGENCE.RAW;
