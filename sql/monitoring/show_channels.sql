-- Every channel of every pipe in the RAW schema.
SHOW CHANNELS IN SCHEMA AUTOMATED_INTELLIGENCE.RAW;
