"""Custom actions of the example store bot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import find_order
from handoff_component import ActionHandoff

# The plugin's actions, registered with this action server by being imported here.
__all__ = ["ActionCheckOrderStatus", "ActionHandoff"]


class ActionCheckOrderStatus(Action):
    """Tell the customer where their order is, or say plainly that we can't find it."""

    def name(self) -> str:
        return "action_check_order_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order_id = tracker.get_slot("order_id")
        order = find_order(order_id)
        if order is None:
            dispatcher.utter_message(
                text=f"I couldn't find an order numbered {order_id}. "
                "Please check the 5-digit number in your confirmation email."
            )
            return [SlotSet("order_id", None)]
        dispatcher.utter_message(
            text=f"Your order {order.order_id} ({order.item}) is {order.status}: {order.eta}."
        )
        return []
