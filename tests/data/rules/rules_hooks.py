"""Custom conditions used by the rules tests (imported by `custom: rules_hooks:...`)."""


def shouting(view):
    """True when the current message is written in capitals."""
    text = view.current.text
    return text.isupper() and len(text) > 3


def order_share(view):
    """Share of the messages that mention an order: a number for `is:` comparisons."""
    return sum("order" in turn.text.lower() for turn in view.turns) / len(view.turns)


def broken(view):
    raise RuntimeError("a bug in a designer's hook")


def not_a_number(view):
    return "yes"


NOT_CALLABLE = 3
