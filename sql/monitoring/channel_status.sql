-- The channels of the two pipes, with their last committed offset tokens.
-- SHOW CHANNELS is Snowflake's documented SQL view of channels; there is no
-- INFORMATION_SCHEMA.PIPE_CHANNEL_STATUS function. (For history over time, Snowflake has
-- the ACCOUNT_USAGE view SNOWPIPE_STREAMING_CHANNEL_HISTORY; the SDK has
-- get_channel_status.)
SHOW CHANNELS IN PIPE AUTOMATED_INTELLIGENCE.RAW.ORDERS_PIPE;
SHOW CHANNELS IN PIPE AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS_PIPE;
