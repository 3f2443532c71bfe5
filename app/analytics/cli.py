"""``flask analytics rebuild --from --to``: recompute the rollups from raw rows."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import Flask

from app.analytics.rebuild import rebuild
from app.calendar import next_month, today
from app.extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.group("analytics")
    def analytics_group():
        """The admin figures' rollups."""

    @analytics_group.command("rebuild")
    @click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
    @click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None)
    def rebuild_command(first, last):
        """Recompute the rollups of the Nairobi days FROM..TO (default: today), inclusive."""
        first_day: date = first.date()
        last_day: date = last.date() if last else today()
        if first_day > last_day:
            raise click.BadParameter("--from must not be after --to")
        # One transaction per month keeps each one short on a large database.
        start = first_day
        while start <= last_day:
            end = min(last_day, next_month(start) - timedelta(days=1))
            report = rebuild(start, end)
            db.session.commit()
            click.echo(
                f"{start}..{end}: {report.day_rows} day rows, {report.coarse_rows} week/month rows"
            )
            start = end + timedelta(days=1)
