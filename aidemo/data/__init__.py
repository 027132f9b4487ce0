"""The demo's data: seeded, reproducible orders and their items (generator), customers and their
segments, the random draws they share, the tables' row models, and order dates.
"""
