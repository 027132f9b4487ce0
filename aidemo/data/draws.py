"""Counter-based draws: every value the generator makes is a hash, not a random state.

A value is the splitmix64 finaliser (in numpy ``uint64`` arithmetic) of a key built from the
seed, a domain (customers, orders, items), the instance, and a counter (the row's id or an
item's position), further mixed with a field number. The same inputs always give the same
value, whatever batch they are drawn in.
"""

from __future__ import annotations

import numpy as np

from aidemo.errors import ConfigError

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MAX_ID = (1 << 63) - 1


def mix_int(x: int) -> int:
    """The splitmix64 finaliser on a Python int."""
    x &= MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on a ``uint64`` array, in place; returns it."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def key(*parts: int) -> int:
    key = 0
    for part in parts:
        key = mix_int(key + GAMMA + part)
    return key


def hash_ids(key: int, counters: np.ndarray) -> np.ndarray:
    """One well-mixed 64-bit hash per counter (an id, or an item's position)."""
    x = counters.astype(np.uint64)
    x *= np.uint64(GAMMA)
    x += np.uint64(key)
    return mix(x)


def uniform(hashes: np.ndarray, field: int) -> np.ndarray:
    """A uniform float in [0, 1) per hash, independent for each field number."""
    x = hashes ^ np.uint64(mix_int(field * GAMMA))
    return (mix(x) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def below(hashes: np.ndarray, field: int, n: int | np.ndarray) -> np.ndarray:
    """A uniform int64 in [0, n) per hash."""
    return (uniform(hashes, field) * n).astype(np.int64)


def pick(hashes: np.ndarray, field: int, shares: tuple[float, ...]) -> np.ndarray:
    """The index of the share each hash falls in."""
    edges = np.cumsum(shares)[:-1]
    return np.searchsorted(edges, uniform(hashes, field), side="right")


def check_int(name: str, value: object, minimum: int, maximum: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return int(value)
