"""Snowflake SQL read and translated to DuckDB's with sqlglot: statements, functions, semi-structured
values, INFORMATION_SCHEMA, and the sandbox that keeps user SQL off the service's own state.
"""
