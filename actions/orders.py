"""The example store's orders: a fixed catalogue so the demo bot has something real to look up.

A real bot would call its order system here; the shape of the answer is what matters to the
handoff (an order the bot cannot explain is a reason to bring in a person).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Order:
    order_id: str
    item: str
    status: str
    eta: str


ORDERS: dict[str, Order] = {
    order.order_id: order
    for order in (
        Order("48213", "rain jacket", "shipped", "arrives Thursday"),
        Order("10234", "running shoes", "processing", "ships within 2 working days"),
        Order("55120", "wool sweater", "delayed", "held at the carrier's depot, no new date yet"),
        Order("77341", "backpack", "delivered", "delivered on Monday to the front door"),
        Order("31007", "sunglasses", "shipped", "arrives tomorrow"),
    )
}


def find_order(order_id: str | None) -> Order | None:
    """Look up an order by the number the customer typed (spaces and a leading '#' tolerated)."""
    if not order_id:
        return None
    return ORDERS.get(order_id.strip().lstrip("#"))
