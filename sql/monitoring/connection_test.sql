-- A first query: who and where the session is, and the server's clock and version.
SELECT CURRENT_USER() AS USER_NAME,
       CURRENT_ROLE() AS ROLE_NAME,
       CURRENT_DATABASE() AS DATABASE_NAME,
       CURRENT_VERSION() AS VERSION,
       CURRENT_TIMESTAMP() AS SERVER_TIME;
