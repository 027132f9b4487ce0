-- The tables of the RAW schema with their row counts.
SHOW TABLES IN SCHEMA AUTOMATED_INTELLIGENCE.RAW;
