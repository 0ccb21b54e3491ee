"""Domain errors. Messages are Chinese (shown to users); codes are English (logs, API)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; ``message`` is shown to the user."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    """The object does not exist, or lies outside the actor's scope (never say which)."""

    code = "not_found"

    def __init__(self, message: str = "未找到该对象，或您无权查看。") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    """The actor's role does not allow the action."""

    code = "forbidden"

    def __init__(self, message: str = "您的角色无权执行此操作。") -> None:
        super().__init__(message)
