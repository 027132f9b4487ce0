-- The pipes the SDK's channels stream through (Snowpipe Streaming, high-performance
-- architecture). With a bare COPY INTO, each row's keys are matched to the table's
-- columns by name. 03_pipes_data_source.sql is the equivalent explicit form.
-- Replacing a pipe drops its channels and their committed offset tokens, so `aidemo setup`
-- runs only the statements whose pipe does not exist yet.
CREATE OR REPLACE PIPE AUTOMATED_INTELLIGENCE.RAW.ORDERS_PIPE
    AS COPY INTO AUTOMATED_INTELLIGENCE.RAW.ORDERS;

CREATE OR REPLACE PIPE AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS_PIPE
    AS COPY INTO AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS;
