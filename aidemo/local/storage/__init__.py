"""What the local service keeps: databases, pipes, channels and their rows, held commits, stages and
their files, keys and identity columns.
"""
