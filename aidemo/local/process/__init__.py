"""The local service as a process: starting, finding and stopping it, its home directory,
certificates and keys, bootstrap, and a small client of its own routes.
"""
