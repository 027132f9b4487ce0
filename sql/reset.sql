-- Drops the demo's pipes (with their channels and committed offset tokens) and the streamed
-- tables, so that setup recreates them empty: what `aidemo setup --reset` runs on every backend
-- (setup drops CUSTOMERS too, unless it holds the customers of the same seed and count).
-- Dropping a table also drops its default pipe <TABLE>-STREAMING and that pipe's channels.
-- Grants on the database and schema survive; grants on the dropped objects do not, so run
-- 04_grants.sql again afterwards.
DROP PIPE IF EXISTS AUTOMATED_INTELLIGENCE.RAW.ORDERS_PIPE;
DROP PIPE IF EXISTS AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS_PIPE;
DROP TABLE IF EXISTS AUTOMATED_INTELLIGENCE.RAW.ORDERS;
DROP TABLE IF EXISTS AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS;
