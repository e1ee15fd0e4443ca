"""Rasa's socket.io channel, able to reach a customer held by another Rasa replica.

An attendant's reply enters through the HandoffConnector of whichever replica the load balancer
picked, but the customer's socket is held by one replica only (sticky sessions). Rasa's own
channel emits to the sockets of its own process, so the reply would silently go nowhere. With
`redis_url`, emits go through a shared Redis manager (python-socketio's AsyncRedisManager) and
reach the customer's socket on any replica. The channel keeps the name `socketio`, so trackers,
rules and tickets see the same channel name either way.

    # credentials.yml, production
    handoff_component.bot.socketio_channel.SocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      redis_url: redis://127.0.0.1:6379/2
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint


class SocketIOInput(RasaSocketIOInput):
    """`socketio` with an optional Redis manager shared by every replica."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = dict(credentials or {})
        redis_url = credentials.pop("redis_url", None)
        if redis_url is not None and not str(redis_url).startswith(("redis://", "rediss://")):
            raise ValueError(
                f"credentials.yml, socketio: redis_url must be redis://host:port/db, "
                f"got {redis_url!r}"
            )
        channel = super().from_credentials(credentials)
        channel.redis_url = redis_url
        return channel

    redis_url: str | None = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        if self.redis_url and self.sio is not None:
            # Swapped before the first connection, which is when the server initialises it.
            manager = socketio.AsyncRedisManager(self.redis_url, channel="rasa-socketio")
            manager.set_server(self.sio)
            self.sio.manager = manager
        return webhook
