"""What a job's channels committed, read back so that tests compare whole tables with the generator's."""

from __future__ import annotations

import pandas as pd

from aidemo.dates import OrderDates
from aidemo.generator import InstanceSpec, order_batch
from aidemo.offsets import parse_order_dates


def committed_tokens(backend) -> dict[str, str | None]:
    """Each channel of the demo's schema and its committed offset token (None: nothing yet)."""
    channels = backend.sql(f"SHOW CHANNELS IN SCHEMA {backend.database}.RAW")
    return {name: token or None for name, token in zip(channels["name"], channels["last_committed_offset_token"])}


def job_dates(backend, channel: str = "orders_channel") -> OrderDates:
    """The order dates the job on ``channel`` streamed with, as its committed token keeps them."""
    dates = parse_order_dates(committed_tokens(backend).get(channel))
    assert dates is not None, f"{channel} committed nothing"
    return dates


def expected_tables(backend, slices: list[tuple[InstanceSpec, int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The orders and items the generator makes for the job's ``slices`` (one: ``orders_channel``;
    several: ``orders_channel_<i>``), each dated as its channel's committed token says."""
    batches = [
        order_batch(
            spec,
            spec.order_base,
            count,
            job_dates(backend, "orders_channel" if len(slices) == 1 else f"orders_channel_{spec.instance}"),
        )
        for spec, count in slices
    ]
    return (
        pd.concat([b.orders_frame() for b in batches], ignore_index=True),
        pd.concat([b.items_frame() for b in batches], ignore_index=True),
    )
