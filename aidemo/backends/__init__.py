"""Where the SDK streams and SQL runs, the local service or an account (backend): the SDK's client
and errors (sdk), the connector as the SQL client of both (sqlclient), SQL files and literals
(scripts), the demo's objects set up (provision), key pairs (keys) and the local service's fault
switch (faultswitch).
"""
