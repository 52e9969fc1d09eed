#!/usr/bin/env python3
"""Reads bars, the calendar and the clock from a running seedctl simulator
through Alpaca's official Python SDK (alpaca-py), and checks that the SDK got
exactly what the simulator's data rules say, without errors.

This is a manual compatibility check, not part of CI. To run it:

    # 1. serve a simulator; it writes its address and the expected bars
    #    to SIM_CHECK_FILE and keeps serving for SIM_SERVE_SECONDS
    SIM_CHECK_FILE=/tmp/sim-check.json SIM_SERVE_SECONDS=300 \
        cargo test --test sim -- --ignored --nocapture serve_for_the_alpaca_py_check

    # 2. in another shell, once the file exists
    python3 -m venv /tmp/alpaca-venv
    /tmp/alpaca-venv/bin/pip install alpaca-py
    /tmp/alpaca-venv/bin/python tests/compat/alpaca_py_check.py /tmp/sim-check.json

It exits 0 and prints one line per check when everything matches, and exits 1
with the first mismatch otherwise.
"""

import json
import sys
from datetime import date, datetime

from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import GetCalendarRequest


def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def same_bar(got, want):
    """Compares an SDK Bar with a bar of the simulator's wire format."""
    return (
        got.timestamp == instant(want["t"])
        and (got.open, got.high, got.low, got.close) == (want["o"], want["h"], want["l"], want["c"])
        and (got.volume, got.trade_count, got.vwap) == (want["v"], want["n"], want["vw"])
    )


def bars_request(check, **overrides):
    fields = dict(
        symbol_or_symbols=check["symbols"],
        timeframe=TimeFrame.Minute,
        start=instant(check["start"]),
        end=instant(check["end"]),
        feed=DataFeed.SIP,
        adjustment=Adjustment.RAW,
    )
    fields.update(overrides)
    return StockBarsRequest(**fields)


def check_all_bars(client, check):
    barset = client.get_stock_bars(bars_request(check))
    expected = check["expected"]
    if sorted(barset.data) != sorted(expected):
        fail(f"symbols {sorted(barset.data)} instead of {sorted(expected)}")
    for symbol, want in expected.items():
        bars = barset.data[symbol]
        times = [bar.timestamp for bar in bars]
        if len(bars) != want["count"]:
            fail(f"{symbol}: {len(bars)} bars instead of {want['count']}")
        if times != sorted(set(times)):
            fail(f"{symbol}: timestamps are not strictly increasing")
        if sum(bar.volume for bar in bars) != want["volume"]:
            fail(f"{symbol}: total volume differs")
        if not (same_bar(bars[0], want["first"]) and same_bar(bars[-1], want["last"])):
            fail(f"{symbol}: first or last bar differs: {bars[0]} / {bars[-1]}")
    total = sum(want["count"] for want in expected.values())
    print(f"ok: {total} bars of {len(expected)} symbols across pages match the expected table")
    return barset


def check_total_limit(client, check, full):
    # alpaca-py shrinks the limit of the last page to reach the total asked
    # for, so the page token must not depend on the limit.
    limit = 12_345
    barset = client.get_stock_bars(bars_request(check, limit=limit))
    got = [(s, b.timestamp) for s in sorted(barset.data) for b in barset.data[s]]
    want = [(s, b.timestamp) for s in sorted(full.data) for b in full.data[s]][:limit]
    if got != want:
        fail(f"limit={limit}: got {len(got)} bars, not the first {limit} of the full answer")
    print(f"ok: limit={limit} returns the first {limit} bars over pages of shrinking size")


def check_error_body(client, check):
    try:
        client.get_stock_bars(bars_request(check, timeframe=TimeFrame(5, TimeFrameUnit.Minute)))
    except APIError as error:
        if (error.status_code, error.code) != (422, 42210000):
            fail(f"5Min: status {error.status_code}, code {error.code}")
        print(f"ok: an unsupported timeframe raises APIError 422/42210000: {error.message}")
        return
    fail("5Min bars were accepted")


def check_trading(check):
    trading = TradingClient(
        check["key_id"], check["secret_key"], paper=True, url_override=check["url"]
    )
    days = trading.get_calendar(GetCalendarRequest(start=date(2024, 7, 1), end=date(2024, 7, 8)))
    dates = [day.date.isoformat() for day in days]
    if dates != ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"]:
        fail(f"calendar dates {dates}")
    if days[2].close != datetime(2024, 7, 3, 13, 0):
        fail(f"2024-07-03 closes at {days[2].close}")
    print("ok: the calendar parses, skips 2024-07-04 and closes 2024-07-03 at 13:00")

    clock = trading.get_clock()
    if clock.timestamp != instant(check["now"]) or clock.is_open:
        fail(f"clock {clock}")
    if clock.next_open.isoformat() != "2024-03-11T09:30:00-04:00":
        fail(f"next open {clock.next_open.isoformat()}")
    print(f"ok: the clock parses: {clock.timestamp.isoformat()}, next open {clock.next_open}")


def main():
    if len(sys.argv) != 2:
        fail("usage: alpaca_py_check.py SIM_CHECK_FILE")
    with open(sys.argv[1]) as file:
        check = json.load(file)
    client = StockHistoricalDataClient(
        check["key_id"], check["secret_key"], url_override=check["url"]
    )
    full = check_all_bars(client, check)
    check_total_limit(client, check, full)
    check_error_body(client, check)
    check_trading(check)


if __name__ == "__main__":
    main()
