-- The pipes the SDK's channels stream through (Snowpipe Streaming, high-performance
-- architecture), in the streaming-source form Snowflake documents for CREATE PIPE: each
-- column is filled from a key of the streamed row ($1), cast to the column's type.
-- Keys after $1: are case-sensitive (the kit sends upper-case keys).
-- Replacing a pipe drops its channels and their committed offset tokens, so `aidemo setup`
-- runs only the statements whose pipe does not exist yet.
-- The local service also takes the short form of the original demo's README,
--   CREATE OR REPLACE PIPE ORDERS_PIPE AS COPY INTO ORDERS;
-- which matches each row's keys to the table's columns by name.
CREATE OR REPLACE PIPE AUTOMATED_INTELLIGENCE.RAW.ORDERS_PIPE
    AS COPY INTO AUTOMATED_INTELLIGENCE.RAW.ORDERS (
        ORDER_ID, CUSTOMER_ID, ORDER_DATE, ORDER_STATUS,
        TOTAL_AMOUNT, DISCOUNT_PERCENT, SHIPPING_COST
    )
    FROM (
        SELECT
            $1:ORDER_ID::NUMBER(38,0),
            $1:CUSTOMER_ID::NUMBER(38,0),
            $1:ORDER_DATE::TIMESTAMP_NTZ,
            $1:ORDER_STATUS::VARCHAR(20),
            $1:TOTAL_AMOUNT::NUMBER(10,2),
            $1:DISCOUNT_PERCENT::NUMBER(5,2),
            $1:SHIPPING_COST::NUMBER(8,2)
        FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))
    );

CREATE OR REPLACE PIPE AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS_PIPE
    AS COPY INTO AUTOMATED_INTELLIGENCE.RAW.ORDER_ITEMS (
        ORDER_ITEM_ID, ORDER_ID, PRODUCT_ID, PRODUCT_NAME,
        PRODUCT_CATEGORY, QUANTITY, UNIT_PRICE, LINE_TOTAL
    )
    FROM (
        SELECT
            $1:ORDER_ITEM_ID::NUMBER(38,0),
            $1:ORDER_ID::NUMBER(38,0),
            $1:PRODUCT_ID::NUMBER(38,0),
            $1:PRODUCT_NAME::VARCHAR(100),
            $1:PRODUCT_CATEGORY::VARCHAR(50),
            $1:QUANTITY::NUMBER(38,0),
            $1:UNIT_PRICE::NUMBER(10,2),
            $1:LINE_TOTAL::NUMBER(12,2)
        FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))
    );
