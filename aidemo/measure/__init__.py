"""What a stream measured: counts, rates and flushes (stats), latency per stage (latency), a
progress bar while it runs (progress), and figures of it (plots).
"""
