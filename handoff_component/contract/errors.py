"""The one error type of the contract: what is wrong, and in which field."""

from __future__ import annotations


class ContractError(ValueError):
    """A payload or signature that does not follow the contract; `field` names what is wrong."""

    def __init__(self, field_name: str | None, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}" if field_name else message)


class SignatureError(ContractError):
    """The request is not signed with the shared secret, or the signature is stale."""
