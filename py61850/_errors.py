"""Exceptions of the client API.

Every failed service raises an :class:`IedConnectionException` whose
``error_code`` is an :class:`~py61850.client.IedClientError`. The exception is
an instance of a subclass chosen by that code, so callers can catch one kind of
failure (``except ObjectDoesNotExistError``) or all of them
(``except IedConnectionException``). Some subclasses also derive from the
matching built-in exception (:class:`TimeoutError`, :class:`ConnectionError`,
:class:`ValueError`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

from ._enums import AddCause, DataAccessError, FunctionalConstraint, IedClientError

if TYPE_CHECKING:  # pragma: no cover
    from ._control import LastApplError

__all__ = [
    "AccessDeniedError",
    "AlreadyConnectedError",
    "ConnectionLostError",
    "ConnectionRejectedError",
    "ConnectionTimeoutError",
    "ControlRefusedError",
    "HardwareFaultError",
    "IedConnectionException",
    "InvalidAddressError",
    "InvalidArgumentError",
    "MalformedMessageError",
    "NotConnectedError",
    "ObjectAccessUnsupportedError",
    "ObjectAttributeInconsistentError",
    "ObjectConstraintConflictError",
    "ObjectDoesNotExistError",
    "ObjectExistsError",
    "ObjectInvalidatedError",
    "ObjectReferenceInvalidError",
    "ObjectUndefinedError",
    "ObjectValueInvalidError",
    "OutstandingCallLimitError",
    "ServiceNotSupportedError",
    "TemporarilyUnavailableError",
    "TypeInconsistentError",
    "TypeUnsupportedError",
    "UnexpectedValueError",
    "error_class",
    "exception_for",
]


class IedConnectionException(Exception):
    """A client service failed.

    :param message: human-readable description (names the object and the cause)
    :param error_code: the reason, an :class:`~py61850.client.IedClientError`
        (an unknown integer is kept as is)
    :param reference: object reference the service was applied to, if any
    :param fc: functional constraint used with ``reference``, if any

    .. attribute:: error_code

       The :class:`~py61850.client.IedClientError` of the failure.

    .. attribute:: reference

       The object reference concerned, or ``None``.

    .. attribute:: fc

       The functional constraint used, or ``None``.
    """

    def __init__(
        self,
        message: str,
        error_code: Union[IedClientError, int] = IedClientError.UNKNOWN,
        reference: Optional[str] = None,
        fc: Optional[FunctionalConstraint] = None,
    ) -> None:
        # One positional argument only: several of the subclasses also derive
        # from OSError, which would read two arguments as (errno, strerror).
        super().__init__(message)
        self.message: str = message
        try:
            self.error_code: Union[IedClientError, int] = IedClientError(error_code)
        except ValueError:
            self.error_code = int(error_code)
        self.reference: Optional[str] = reference
        self.fc: Optional[FunctionalConstraint] = fc

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        code = self.error_code
        code_txt = code.name if isinstance(code, IedClientError) else str(code)
        return f"{type(self).__name__}({self.message!r}, {code_txt})"

    def __reduce__(self):  # keep pickling working despite the keyword fields
        return (type(self), (self.message, int(self.error_code), self.reference, self.fc))


class NotConnectedError(IedConnectionException):
    """The connection is not open (``NOT_CONNECTED``)."""


class AlreadyConnectedError(IedConnectionException):
    """``connect`` on a connection that is already open (``ALREADY_CONNECTED``)."""


class ConnectionLostError(IedConnectionException, ConnectionError):
    """The connection broke (``CONNECTION_LOST``); it is now closed.

    Also raised, instead of :class:`NotConnectedError`, by the first services
    called after a connection was lost without ``close``/``abort``/``release``.
    """


class ConnectionRejectedError(IedConnectionException, ConnectionError):
    """The peer refused the TCP connection or the association
    (``CONNECTION_REJECTED``)."""


class ConnectionTimeoutError(IedConnectionException, TimeoutError):
    """No answer within the connect or request timeout (``TIMEOUT``)."""


class ServiceNotSupportedError(IedConnectionException):
    """The service is not supported or not implemented
    (``SERVICE_NOT_SUPPORTED``, ``SERVICE_NOT_IMPLEMENTED``)."""


class OutstandingCallLimitError(IedConnectionException):
    """Too many requests in flight on this connection
    (``OUTSTANDING_CALL_LIMIT_REACHED``)."""


class InvalidArgumentError(IedConnectionException, ValueError):
    """An argument was rejected before anything was sent
    (``USER_PROVIDED_INVALID_ARGUMENT``)."""


class ObjectReferenceInvalidError(IedConnectionException, ValueError):
    """The object reference is syntactically invalid (``OBJECT_REFERENCE_INVALID``)."""


class UnexpectedValueError(IedConnectionException):
    """The server sent a value of another type than the one asked for, or one
    that does not fit the requested Python type (``UNEXPECTED_VALUE_RECEIVED``)."""


class AccessDeniedError(IedConnectionException):
    """The server denied access (``ACCESS_DENIED``)."""


class ObjectDoesNotExistError(IedConnectionException):
    """The server reports that the object does not exist (``OBJECT_DOES_NOT_EXIST``)."""


class ObjectExistsError(IedConnectionException):
    """The object already exists (``OBJECT_EXISTS``)."""


class ObjectAccessUnsupportedError(IedConnectionException):
    """The server does not support this access to the object
    (``OBJECT_ACCESS_UNSUPPORTED``)."""


class TypeInconsistentError(IedConnectionException):
    """The server expected a value of another type (``TYPE_INCONSISTENT``)."""


class TemporarilyUnavailableError(IedConnectionException):
    """The object or service is temporarily unavailable (``TEMPORARILY_UNAVAILABLE``)."""


class ObjectUndefinedError(IedConnectionException):
    """The object is not defined in the server (``OBJECT_UNDEFINED``)."""


class InvalidAddressError(IedConnectionException):
    """The address is invalid (``INVALID_ADDRESS``)."""


class HardwareFaultError(IedConnectionException):
    """The server reports a hardware fault (``HARDWARE_FAULT``)."""


class TypeUnsupportedError(IedConnectionException):
    """The data type is not supported (``TYPE_UNSUPPORTED``)."""


class ObjectAttributeInconsistentError(IedConnectionException):
    """The object's attributes are inconsistent (``OBJECT_ATTRIBUTE_INCONSISTENT``)."""


class ObjectValueInvalidError(IedConnectionException):
    """The value is invalid for the object (``OBJECT_VALUE_INVALID``)."""


class ObjectInvalidatedError(IedConnectionException):
    """The object is invalidated (``OBJECT_INVALIDATED``)."""


class MalformedMessageError(IedConnectionException):
    """The server sent a message that could not be decoded (``MALFORMED_MESSAGE``)."""


class ObjectConstraintConflictError(IedConnectionException):
    """A resource is still in use (``OBJECT_CONSTRAINT_CONFLICT``)."""


class ControlRefusedError(IedConnectionException):
    """The server refused a control command (select, select-with-value,
    operate or cancel), or the control model does not allow it (a status-only
    object refuses every command without sending anything).

    ``error_code`` is the service error (for example ``ACCESS_DENIED`` for a
    refused Write of ``Oper``); :attr:`add_cause` says why, from the
    LastApplError the server sent with its refusal.

    .. attribute:: add_cause

       The :class:`~py61850.client.AddCause` (``UNKNOWN`` when the server sent no
       LastApplError, ``NOT_SUPPORTED`` for a status-only object).

    .. attribute:: last_appl_error

       The :class:`~py61850.client.LastApplError` the server sent with the
       refusal, or ``None``.
    """

    def __init__(
        self,
        message: str,
        error_code: Union[IedClientError, int] = IedClientError.ACCESS_DENIED,
        reference: Optional[str] = None,
        fc: Optional[FunctionalConstraint] = None,
        add_cause: Union[AddCause, int] = AddCause.UNKNOWN,
        last_appl_error: Optional["LastApplError"] = None,
    ) -> None:
        super().__init__(message, error_code, reference, fc)
        self.add_cause: AddCause = AddCause(int(add_cause))
        self.last_appl_error: Optional["LastApplError"] = last_appl_error

    def __repr__(self) -> str:
        code = self.error_code
        code_txt = code.name if isinstance(code, IedClientError) else str(code)
        return f"{type(self).__name__}({self.message!r}, {code_txt}, {self.add_cause.name})"

    def __reduce__(self) -> Any:
        return (type(self), (self.message, int(self.error_code), self.reference, self.fc, int(self.add_cause),
                             self.last_appl_error))


_E = IedClientError

_CLASS_BY_CODE: dict[int, type[IedConnectionException]] = {
    _E.NOT_CONNECTED: NotConnectedError,
    _E.ALREADY_CONNECTED: AlreadyConnectedError,
    _E.CONNECTION_LOST: ConnectionLostError,
    _E.SERVICE_NOT_SUPPORTED: ServiceNotSupportedError,
    _E.CONNECTION_REJECTED: ConnectionRejectedError,
    _E.OUTSTANDING_CALL_LIMIT_REACHED: OutstandingCallLimitError,
    _E.USER_PROVIDED_INVALID_ARGUMENT: InvalidArgumentError,
    _E.OBJECT_REFERENCE_INVALID: ObjectReferenceInvalidError,
    _E.UNEXPECTED_VALUE_RECEIVED: UnexpectedValueError,
    _E.TIMEOUT: ConnectionTimeoutError,
    _E.ACCESS_DENIED: AccessDeniedError,
    _E.OBJECT_DOES_NOT_EXIST: ObjectDoesNotExistError,
    _E.OBJECT_EXISTS: ObjectExistsError,
    _E.OBJECT_ACCESS_UNSUPPORTED: ObjectAccessUnsupportedError,
    _E.TYPE_INCONSISTENT: TypeInconsistentError,
    _E.TEMPORARILY_UNAVAILABLE: TemporarilyUnavailableError,
    _E.OBJECT_UNDEFINED: ObjectUndefinedError,
    _E.INVALID_ADDRESS: InvalidAddressError,
    _E.HARDWARE_FAULT: HardwareFaultError,
    _E.TYPE_UNSUPPORTED: TypeUnsupportedError,
    _E.OBJECT_ATTRIBUTE_INCONSISTENT: ObjectAttributeInconsistentError,
    _E.OBJECT_VALUE_INVALID: ObjectValueInvalidError,
    _E.OBJECT_INVALIDATED: ObjectInvalidatedError,
    _E.MALFORMED_MESSAGE: MalformedMessageError,
    _E.OBJECT_CONSTRAINT_CONFLICT: ObjectConstraintConflictError,
    _E.SERVICE_NOT_IMPLEMENTED: ServiceNotSupportedError,
}

# MMS DataAccessError -> IedClientError (same table as i61_err_from_data_access_error).
_CODE_BY_DAE: dict[int, IedClientError] = {
    DataAccessError.OBJECT_INVALIDATED: _E.OBJECT_INVALIDATED,
    DataAccessError.HARDWARE_FAULT: _E.HARDWARE_FAULT,
    DataAccessError.TEMPORARILY_UNAVAILABLE: _E.TEMPORARILY_UNAVAILABLE,
    DataAccessError.OBJECT_ACCESS_DENIED: _E.ACCESS_DENIED,
    DataAccessError.OBJECT_UNDEFINED: _E.OBJECT_UNDEFINED,
    DataAccessError.INVALID_ADDRESS: _E.INVALID_ADDRESS,
    DataAccessError.TYPE_UNSUPPORTED: _E.TYPE_UNSUPPORTED,
    DataAccessError.TYPE_INCONSISTENT: _E.TYPE_INCONSISTENT,
    DataAccessError.OBJECT_ATTRIBUTE_INCONSISTENT: _E.OBJECT_ATTRIBUTE_INCONSISTENT,
    DataAccessError.OBJECT_ACCESS_UNSUPPORTED: _E.OBJECT_ACCESS_UNSUPPORTED,
    DataAccessError.OBJECT_NON_EXISTENT: _E.OBJECT_DOES_NOT_EXIST,
    DataAccessError.OBJECT_VALUE_INVALID: _E.OBJECT_VALUE_INVALID,
}


def error_class(error_code: Union[IedClientError, int]) -> type[IedConnectionException]:
    """Exception class raised for an error code.

    :param error_code: an :class:`~py61850.client.IedClientError` or its integer value
    :returns: the matching subclass of :class:`IedConnectionException`, or the
        base class itself for ``UNKNOWN`` and unknown codes
    """
    return _CLASS_BY_CODE.get(int(error_code), IedConnectionException)


def exception_for(
    error_code: Union[IedClientError, int],
    message: str,
    reference: Optional[str] = None,
    fc: Optional[FunctionalConstraint] = None,
) -> IedConnectionException:
    """Build (not raise) the exception for an error code.

    :param error_code: the failure reason
    :param message: the message of the exception
    :param reference: object reference concerned, if any
    :param fc: functional constraint concerned, if any
    :returns: an instance of :func:`error_class` ``(error_code)``
    """
    return error_class(error_code)(message, error_code, reference, fc)


def code_for_data_access_error(dae: int) -> IedClientError:
    """Map an MMS DataAccessError code onto an :class:`IedClientError`."""
    return _CODE_BY_DAE.get(int(dae), _E.UNKNOWN)


def describe_code(error_code: Union[IedClientError, int]) -> str:
    """``"OBJECT_DOES_NOT_EXIST"`` style name of a code (the number if unknown)."""
    try:
        return IedClientError(error_code).name
    except ValueError:
        return str(int(error_code))
