"""The stream: how one instance streams (options), its two lanes into the SDK (streaming), a job
split over instances (parallel), and the offset tokens each channel commits (offsets).
"""
