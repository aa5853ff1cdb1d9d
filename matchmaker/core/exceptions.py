"""Use cases. Services take ids and values, return plain data or rows, and own the transaction."""


class ServiceError(Exception):
    """A request the service refuses; `field` names the input at fault when there is one."""

    status = 400

    def __init__(self, message: str, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: message} if field else {})


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409
