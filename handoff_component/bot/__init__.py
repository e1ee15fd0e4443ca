"""Rasa's side of the plugin: every module that imports `rasa` or `rasa_sdk` lives here. The pure
core and the service never import from here (tests/test_layers.py).

- `scorer`: the NLU component `HandoffScorer`, a thin adapter over `core.scoring`;
- `policy`: `HandoffPolicy`, which turns the tracker into a `core.rules` view and evaluates it;
- `actions`: `action_handoff` and `action_session_start`, for the action server;
- `connector`, `customer_channels`: the `HandoffConnector` input channel, and how an attendant's
  message reaches the customer on each channel;
- `socketio_channel`, `instagram_channel`, `telegram_channel`: input channels (socket.io across
  replicas, Instagram messaging, Telegram that can send from a running server);
- `event_broker`, `outbox`, `service_client`: every tracker event to the service, durably;
- `trained_model`: a trained model's NLU for the command-line tools.

Bots name these classes through the package's lazy exports (`handoff_component.HandoffPolicy`),
so nothing here is imported until Rasa asks for it.
"""
