-- The pipes of the RAW schema and their COPY definitions.
SHOW PIPES IN SCHEMA AUTOMATED_INTELLIGENCE.RAW;
