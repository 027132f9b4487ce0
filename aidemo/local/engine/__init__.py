"""Running translated statements: what a statement becomes, a session's SQL context, transactions,
cancelling, Snowflake's error codes, and results in the wire formats the clients read.
"""
