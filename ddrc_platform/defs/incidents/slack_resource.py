"""Where incidents go: the deployment's Slack, as a Dagster resource.

Not dagster-slack's `SlackResource`: it knows a bot token only (incidents also need the
channel, an incoming webhook as the alternative, and another API base for a stand-in,
`DDRC_SLACK_API_URL`), and importing it loads the Slack SDK into every process that loads
the definitions, Slack or not. The SDK is loaded when a notifier is built
(`incidents/slack.py`). With neither token nor webhook, incidents go to the console and the
incident store (the local default).
"""

from __future__ import annotations

import dagster as dg

from ddrc_platform.settings import SlackSettings, secret_config


class IncidentSlackResource(dg.ConfigurableResource):
    token: str = ""  # a bot token: threads and updates; empty with a webhook or the console
    channel: str | None = None
    webhook_url: str | None = None
    base_url: str | None = None  # another Slack API base (a stand-in)


def build_slack(settings: SlackSettings) -> IncidentSlackResource:
    return IncidentSlackResource(
        token=secret_config(settings.token) or "",
        webhook_url=secret_config(settings.webhook_url),
        channel=settings.channel,
        base_url=settings.api_url,
    )
