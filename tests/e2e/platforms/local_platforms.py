"""Every platform stand-in behind one gateway, and the environment that points Rasa at them.

Rasa's channels reach the stand-ins only through documented seams, never a patch:
- Messenger, Instagram (fbmessenger on `requests`) and Twilio (`requests`): `HTTPS_PROXY` and
  `REQUESTS_CA_BUNDLE`, which `requests` reads from the environment;
- Slack (`slack_sdk` on aiohttp): `HTTPS_PROXY`, which slack_sdk reads, and `SSL_CERT_FILE`,
  which Python's default SSL context reads;
- Telegram (aiogram, which trusts only certifi's CA list): the `api_server` option of the
  plugin's telegram channel, Telegram's documented local Bot API server.
`NO_PROXY` keeps the processes' calls to one another direct. `netguard/` refuses and records
any lookup or connection beyond 127.0.0.1 in every process.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from scripts.stack import PROJECT_DIR, Ports
from tests.e2e.platforms.gateway import PlatformGateway
from tests.e2e.platforms.meta import GRAPH_HOST, MetaAccount, MetaGraph
from tests.e2e.platforms.slack import SLACK_HOSTS, Slack, SlackApp
from tests.e2e.platforms.telegram import Telegram, TelegramBot
from tests.e2e.platforms.tls import TestCertificates, create_certificates
from tests.e2e.platforms.twilio import TWILIO_HOST, Twilio, TwilioAccount

NETGUARD_DIR = Path(__file__).resolve().parent / "netguard"
CREDENTIALS = Path(__file__).resolve().parent / "credentials.yml"


@dataclass
class LocalPlatforms:
    ports: Ports  # of the stack the stand-ins post their webhooks to
    gateway: PlatformGateway
    certificates: TestCertificates
    graph: MetaGraph
    messenger: MetaAccount
    instagram: MetaAccount
    twilio: Twilio
    telegram: Telegram
    slack: Slack
    netguard_log: Path
    telegram_webhook_url: str  # what Rasa registers with setWebhook
    telegram_secret_token: str

    def env(self) -> dict[str, str]:
        """What the stack's processes need to find the stand-ins (credentials.yml reads it)."""
        ca = str(self.certificates.ca_file)
        telegram, slack, twilio = self.telegram.bot, self.slack.app, self.twilio.account
        return {
            "HTTPS_PROXY": self.gateway.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "REQUESTS_CA_BUNDLE": ca,
            "SSL_CERT_FILE": ca,
            "NETGUARD_LOG": str(self.netguard_log),
            "PYTHONPATH": f"{NETGUARD_DIR}:{PROJECT_DIR}",
            "FACEBOOK_VERIFY": self.messenger.verify_token,
            "FACEBOOK_APP_SECRET": self.messenger.app_secret,
            "FACEBOOK_PAGE_ACCESS_TOKEN": self.messenger.access_token,
            "INSTAGRAM_VERIFY": self.instagram.verify_token,
            "INSTAGRAM_APP_SECRET": self.instagram.app_secret,
            "INSTAGRAM_PAGE_ACCESS_TOKEN": self.instagram.access_token,
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_NUMBER": twilio.number,
            "TWILIO_WEBHOOK_URL": twilio.webhook_url,
            "TELEGRAM_TOKEN": telegram.token,
            "TELEGRAM_BOT_USERNAME": telegram.username,
            "TELEGRAM_WEBHOOK_URL": self.telegram_webhook_url,
            "TELEGRAM_SECRET_TOKEN": self.telegram_secret_token,
            "TELEGRAM_API_SERVER": self.gateway.base_url(self.telegram.prefix),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
        }

    def netguard_refusals(self) -> list[str]:
        path = self.netguard_log
        return path.read_text().splitlines() if path.exists() else []

    def armed_processes(self) -> set[int]:
        """The pids of the processes whose network guard was installed."""
        path = Path(f"{self.netguard_log}.armed")
        lines = path.read_text().split() if path.exists() else []
        return {int(pid) for pid in lines}

    def close(self) -> None:
        self.gateway.close()


def start_local_platforms(directory: Path, ports: Ports) -> LocalPlatforms:
    """Stand-ins for every platform, each configured for a Rasa server on `ports.rasa`."""
    rasa = f"http://127.0.0.1:{ports.rasa}/webhooks"
    certificates = create_certificates(directory / "tls", (GRAPH_HOST, TWILIO_HOST, *SLACK_HOSTS))
    graph = MetaGraph()
    messenger = graph.add_account(
        MetaAccount(
            "facebook",
            account_id="100200300400",
            access_token="EAAG" + secrets.token_hex(16),
            app_secret=secrets.token_hex(16),
            verify_token=secrets.token_hex(8),
            webhook_url=f"{rasa}/facebook/webhook",
            human_agent_approved=True,
        )
    )
    instagram = graph.add_account(
        MetaAccount(
            "instagram",
            account_id="17841400000000001",
            access_token="EAAI" + secrets.token_hex(16),
            app_secret=secrets.token_hex(16),
            verify_token=secrets.token_hex(8),
            webhook_url=f"{rasa}/instagram/webhook",
            human_agent_approved=False,
        )
    )
    twilio = Twilio(
        TwilioAccount(
            account_sid="AC" + uuid.uuid4().hex,
            auth_token=secrets.token_hex(16),
            number="whatsapp:+14155238886",
            webhook_url=f"{rasa}/twilio/webhook",
        )
    )
    telegram = Telegram(
        TelegramBot(token=f"7000001:{secrets.token_urlsafe(24)}", username="northwind_help_bot")
    )
    slack = Slack(
        SlackApp(
            bot_token="xoxb-" + secrets.token_hex(12),
            signing_secret=secrets.token_hex(16),
            webhook_url=f"{rasa}/slack/webhook",
        )
    )
    hosts = {GRAPH_HOST: graph.handle, TWILIO_HOST: twilio.handle}
    hosts.update({host: slack.handle for host in SLACK_HOSTS})
    gateway = PlatformGateway(certificates, hosts, {telegram.prefix: telegram.handle}).start()
    platforms = LocalPlatforms(
        ports,
        gateway,
        certificates,
        graph,
        messenger,
        instagram,
        twilio,
        telegram,
        slack,
        directory / "netguard.log",
        telegram_webhook_url=f"{rasa}/telegram/webhook",
        telegram_secret_token=secrets.token_urlsafe(24),
    )
    return platforms
