"""The local service's HTTP side: its routes (Snowpipe Streaming, the connector's protocol, the SQL
API, its own admin routes), their replies, authentication, sessions and faults.
"""
