"""Where incidents go: the deployment's Slack, as a Dagster resource.

dagster-slack's `SlackResource` knows a bot token only; incidents also need the channel,
an incoming webhook as the alternative, and another API base for a stand-in
(`DDRC_SLACK_API_URL`). With neither token nor webhook, incidents go to the console and
the incident store (the local default).
"""

from __future__ import annotations

from dagster_slack import SlackResource
from slack_sdk import WebClient

from ddrc_platform.deployment import Settings, secret_config


class IncidentSlackResource(SlackResource):
    token: str = ""  # a bot token: threads and updates; empty with a webhook or the console
    channel: str | None = None
    webhook_url: str | None = None
    base_url: str | None = None  # another Slack API base (a stand-in)

    def get_client(self) -> WebClient:
        if self.base_url:
            return WebClient(token=self.token, base_url=self.base_url)
        return super().get_client()


def build_slack(settings: Settings) -> IncidentSlackResource:
    return IncidentSlackResource(
        token=secret_config(settings.env, "SLACK_BOT_TOKEN") or "",
        webhook_url=secret_config(settings.env, "SLACK_WEBHOOK_URL"),
        channel=settings.slack_channel,
        base_url=settings.slack_api_url,
    )
