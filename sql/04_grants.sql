-- Role and privileges for a real Snowflake account only: the local service has a single
-- user holding every privilege and treats these statements as no-ops.
-- Setup (`aidemo setup`, 01-03 and the customers) runs as a role that may create the
-- database, schema, tables and pipes, e.g. SYSADMIN: put it under "role" in profile.json
-- for that run. It loads the customers with plain INSERTs, so it needs no stage.
-- Streaming then needs only what this file grants AUTOMATED_INTELLIGENCE: USAGE on the
-- database and schema, INSERT on the tables and OPERATE on the pipes; SELECT and MONITOR
-- are for the notebooks' checks and SHOW CHANNELS.
-- Before running: replace COMPUTE_WH with your warehouse and YOUR_USER with the user
-- whose key pair is in profile.json. Run after 01-03 (the objects must exist), and again
-- after `aidemo setup --reset` (grants on dropped objects go with them).
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS AUTOMATED_INTELLIGENCE;
GRANT ROLE AUTOMATED_INTELLIGENCE TO ROLE SYSADMIN;

GRANT USAGE ON DATABASE AUTOMATED_INTELLIGENCE TO ROLE AUTOMATED_INTELLIGENCE;
GRANT USAGE ON SCHEMA AUTOMATED_INTELLIGENCE.RAW TO ROLE AUTOMATED_INTELLIGENCE;
GRANT USAGE ON WAREHOUSE COMPUTE_WH TO ROLE AUTOMATED_INTELLIGENCE;

GRANT SELECT, INSERT ON TABLE AUTOMATED_INTELLIGENCE.RAW.CUSTOMERS TO ROLE AUTOMATED_INTELLIGENCE;
GRANT SELECT, INSERT ON TABLE AUTOMATED_INTELLIGENCE.RAW.ORDERS TO ROLE AUTOMATED_INTELLIGENCE;
GRANT SELECT, INSERT ON TABLE AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS TO ROLE AUTOMATED_INTELLIGENCE;

GRANT OPERATE, MONITOR ON PIPE AUTOMATED_INTELLIGENCE.RAW.ORDERS_PIPE TO ROLE AUTOMATED_INTELLIGENCE;
GRANT OPERATE, MONITOR ON PIPE AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS_PIPE TO ROLE AUTOMATED_INTELLIGENCE;

GRANT ROLE AUTOMATED_INTELLIGENCE TO USER YOUR_USER;
