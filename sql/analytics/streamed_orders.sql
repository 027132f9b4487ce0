-- The streamed orders with their customer's segment: what a DataFrame of them starts from.
SELECT o.ORDER_ID,
       o.CUSTOMER_ID,
       c.CUSTOMER_SEGMENT,
       o.ORDER_DATE,
       o.ORDER_STATUS,
       o.TOTAL_AMOUNT,
       o.DISCOUNT_PERCENT,
       o.SHIPPING_COST
FROM AUTOMATED_INTELLIGENCE.RAW.ORDERS o
LEFT JOIN AUTOMATED_INTELLIGENCE.RAW.CUSTOMERS c ON c.CUSTOMER_ID = o.CUSTOMER_ID
ORDER BY o.ORDER_ID;
