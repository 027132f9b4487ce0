-- The same pipes as 03_pipes.sql in the explicit streaming-source form: each column is
-- filled from a key of the streamed row ($1), cast to the column's type. Use one file or
-- the other; both replace the pipes.
-- Keys after $1: are case-sensitive (the kit sends upper-case keys). MATCH_BY_COLUMN_NAME
-- does not go with this form: it belongs to the form without a SELECT,
--   COPY INTO <table> FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
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
