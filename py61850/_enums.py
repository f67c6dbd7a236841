"""Enumerations of the client API.

Every value equals the matching constant of lib61850's public header
``i61.h`` (``i61_fc``, ``i61_acsi_class``, ``i61_err``, ``i61_conn_state``,
``i61_type``, ``i61_ctl_model``, ``i61_or_cat``, ``i61_add_cause``,
``i61_ctl_error``), so values cross the C boundary unchanged. The reporting flag
enums (:class:`ReportTriggerOptions`, :class:`ReportOptions`,
:class:`ReasonForInclusion`, :class:`RcbElement`) are the masks of
``i61_trg_ops``, ``i61_opt_flds``, ``i61_reason`` and ``1 << i61_rcb_attr``:
IEC bit *n* of the wire bit string is the mask ``1 << (n - 1)``.
"""
from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "ACSIClass",
    "AddCause",
    "ControlError",
    "ControlModel",
    "DataAccessError",
    "FunctionalConstraint",
    "IedClientError",
    "IedConnectionState",
    "MmsType",
    "OrCat",
    "RcbElement",
    "ReasonForInclusion",
    "ReportOptions",
    "ReportTriggerOptions",
]


class _NamedIntEnum(IntEnum):
    """IntEnum whose ``str()`` is the member name (``"MX"``, ``"TIMEOUT"``)."""

    def __str__(self) -> str:
        return self.name


class FunctionalConstraint(_NamedIntEnum):
    """Functional constraint (FC) of a data attribute (IEC 61850-7-2).

    The two-letter name is the enum member name (``FunctionalConstraint["MX"]``)
    and also what :func:`str` returns.
    """

    #: Status information
    ST = 0
    #: Measurands (analogue values)
    MX = 1
    #: Setpoint
    SP = 2
    #: Substitution
    SV = 3
    #: Configuration
    CF = 4
    #: Description
    DC = 5
    #: Setting group
    SG = 6
    #: Setting group editable
    SE = 7
    #: Service response (edition 2)
    SR = 8
    #: Operate received (edition 2)
    OR = 9
    #: Blocking
    BL = 10
    #: Extended definition
    EX = 11
    #: Control
    CO = 12
    #: Unicast sampled value control block
    US = 13
    #: Multicast sampled value control block
    MS = 14
    #: Unbuffered report control block
    RP = 15
    #: Buffered report control block
    BR = 16
    #: Log control block
    LG = 17
    #: GOOSE control block
    GO = 18
    #: Any functional constraint (no filter)
    ALL = 99
    #: No functional constraint
    NONE = -1


class ACSIClass(_NamedIntEnum):
    """Kind of object listed by
    :meth:`~py61850.client.IedConnection.get_logical_node_directory`."""

    #: Data objects
    DATA_OBJECT = 0
    #: Data sets
    DATA_SET = 1
    #: Buffered report control blocks
    BRCB = 2
    #: Unbuffered report control blocks
    URCB = 3
    #: Log control blocks
    LCB = 4
    #: Logs
    LOG = 5
    #: Setting group control blocks
    SGCB = 6
    #: GOOSE control blocks
    GOCB = 7
    #: GSSE control blocks
    GSCB = 8
    #: Multicast sampled value control blocks
    MSVCB = 9
    #: Unicast sampled value control blocks
    USVCB = 10


class IedClientError(_NamedIntEnum):
    """Reason of a failed client service (the ``i61_err`` codes of lib61850)."""

    #: No error: the service succeeded
    OK = 0
    #: The client is not connected
    NOT_CONNECTED = 1
    #: Connect refused because the client is already connected
    ALREADY_CONNECTED = 2
    #: The connection was lost while or before the service ran
    CONNECTION_LOST = 3
    #: The service or one of its parameters is not supported (client or server)
    SERVICE_NOT_SUPPORTED = 4
    #: The server (or the TCP peer) rejected the connection
    CONNECTION_REJECTED = 5
    #: The negotiated number of outstanding requests is exhausted
    OUTSTANDING_CALL_LIMIT_REACHED = 6
    #: An API function was called with an invalid argument
    USER_PROVIDED_INVALID_ARGUMENT = 10
    #: The object reference is syntactically invalid
    OBJECT_REFERENCE_INVALID = 12
    #: A received value has an unexpected type or does not fit
    UNEXPECTED_VALUE_RECEIVED = 13
    #: No answer within the timeout
    TIMEOUT = 20
    #: The server denied access to the object or service
    ACCESS_DENIED = 21
    #: The server reports that the object does not exist
    OBJECT_DOES_NOT_EXIST = 22
    #: The server reports that the object already exists
    OBJECT_EXISTS = 23
    #: The server does not support the requested access to the object
    OBJECT_ACCESS_UNSUPPORTED = 24
    #: The server expected a value of another type
    TYPE_INCONSISTENT = 25
    #: The object or service is temporarily unavailable
    TEMPORARILY_UNAVAILABLE = 26
    #: The object is not defined in the server
    OBJECT_UNDEFINED = 27
    #: The address is invalid
    INVALID_ADDRESS = 28
    #: The service failed because of a hardware fault
    HARDWARE_FAULT = 29
    #: The data type is not supported by the server
    TYPE_UNSUPPORTED = 30
    #: The provided attributes are inconsistent
    OBJECT_ATTRIBUTE_INCONSISTENT = 31
    #: The provided value is invalid
    OBJECT_VALUE_INVALID = 32
    #: The object is invalidated
    OBJECT_INVALIDATED = 33
    #: An invalid message was received from the server
    MALFORMED_MESSAGE = 34
    #: The service was not executed because a resource is still in use
    OBJECT_CONSTRAINT_CONFLICT = 35
    #: The service is not implemented
    SERVICE_NOT_IMPLEMENTED = 98
    #: Unknown error
    UNKNOWN = 99


class IedConnectionState(_NamedIntEnum):
    """State of an :class:`~py61850.client.IedConnection`."""

    #: Not connected (idle)
    CLOSED = 0
    #: Connection set-up in progress
    CONNECTING = 1
    #: Associated: services can be used
    CONNECTED = 2
    #: Release or abort in progress
    CLOSING = 3


class MmsType(_NamedIntEnum):
    """MMS type of a value or a type specification (``i61_type``)."""

    ARRAY = 0
    STRUCTURE = 1
    BOOLEAN = 2
    BIT_STRING = 3
    INTEGER = 4
    UNSIGNED = 5
    FLOAT = 6
    OCTET_STRING = 7
    VISIBLE_STRING = 8
    GENERALIZED_TIME = 9
    BINARY_TIME = 10
    BCD = 11
    OBJ_ID = 12
    #: MMSString (UTF-8)
    STRING = 13
    UTC_TIME = 14
    #: A per-element failure in a read result (not a data type)
    DATA_ACCESS_ERROR = 15


class DataAccessError(_NamedIntEnum):
    """MMS DataAccessError codes (ISO 9506) sent by a server per element."""

    OBJECT_INVALIDATED = 0
    HARDWARE_FAULT = 1
    TEMPORARILY_UNAVAILABLE = 2
    OBJECT_ACCESS_DENIED = 3
    OBJECT_UNDEFINED = 4
    INVALID_ADDRESS = 5
    TYPE_UNSUPPORTED = 6
    TYPE_INCONSISTENT = 7
    OBJECT_ATTRIBUTE_INCONSISTENT = 8
    OBJECT_ACCESS_UNSUPPORTED = 9
    OBJECT_NON_EXISTENT = 10
    OBJECT_VALUE_INVALID = 11


class ReportTriggerOptions(IntFlag):
    """Trigger options (TrgOps) of a report control block: what makes the
    server send a report. Combine with ``|``."""

    #: No trigger
    NONE = 0
    #: A data attribute with ``dchg`` changed its value
    DATA_CHANGED = 1
    #: A data attribute with ``qchg`` (quality) changed
    QUALITY_CHANGED = 2
    #: A data attribute with ``dupd`` was updated (even to the same value)
    DATA_UPDATE = 4
    #: Periodic integrity reports every IntgPd milliseconds
    INTEGRITY = 8
    #: General interrogation (GI) requests
    GI = 16


class ReportOptions(IntFlag):
    """Optional fields (OptFlds) of a report control block: what a report
    carries besides RptID and the values. Combine with ``|``."""

    #: No optional field
    NONE = 0
    #: Sequence number (SqNum)
    SEQ_NUM = 1
    #: Report time stamp (TimeOfEntry)
    TIME_STAMP = 2
    #: Reason for inclusion of each member
    REASON_FOR_INCLUSION = 4
    #: Data set name
    DATA_SET = 8
    #: Data reference of each member
    DATA_REFERENCE = 16
    #: Buffer overflow flag (BRCB)
    BUFFER_OVERFLOW = 32
    #: Entry identifier (BRCB)
    ENTRY_ID = 64
    #: Configuration revision (ConfRev)
    CONF_REV = 128
    #: Segmentation (SubSeqNum, MoreSegmentsFollow); set by the server on segmented reports
    SEGMENTATION = 256


class ReasonForInclusion(IntFlag):
    """Why a data set member is in a report (ReasonCode; several bits may be set)."""

    #: The member is not included in the report
    NOT_INCLUDED = 0
    #: Its value changed (dchg)
    DATA_CHANGE = 1
    #: Its quality changed (qchg)
    QUALITY_CHANGE = 2
    #: It was updated (dupd)
    DATA_UPDATE = 4
    #: Periodic integrity report
    INTEGRITY = 8
    #: General interrogation
    GI = 16
    #: Included, but the report carries no reason-for-inclusion
    UNKNOWN = 32
    #: Application trigger (Edition 2)
    APPLICATION_TRIGGER = 64


class RcbElement(IntFlag):
    """Attributes of a report control block as flags (``1 << i61_rcb_attr``),
    e.g. in :attr:`~py61850.client.ReportControlBlock.element_changed`."""

    NONE = 0
    RPT_ID = 1 << 0
    RPT_ENA = 1 << 1
    RESV = 1 << 2
    DATSET = 1 << 3
    CONF_REV = 1 << 4
    OPT_FLDS = 1 << 5
    BUF_TM = 1 << 6
    SQ_NUM = 1 << 7
    TRG_OPS = 1 << 8
    INTG_PD = 1 << 9
    GI = 1 << 10
    PURGE_BUF = 1 << 11
    ENTRY_ID = 1 << 12
    TIME_OF_ENTRY = 1 << 13
    RESV_TMS = 1 << 14
    OWNER = 1 << 15


# --------------------------------------------------------------------- control


class ControlModel(_NamedIntEnum):
    """Control model of a controllable data object (``ctlModel``, IEC 61850-7-2)."""

    #: The object cannot be controlled (status information only)
    STATUS_ONLY = 0
    #: Operate directly (Write ``Oper``), normal security
    DIRECT_NORMAL = 1
    #: Select first (Read ``SBO``), then operate; normal security
    SBO_NORMAL = 2
    #: Operate directly; the server reports the end with a CommandTermination
    DIRECT_ENHANCED = 3
    #: Select with value (Write ``SBOw``), operate, then a CommandTermination
    SBO_ENHANCED = 4


class OrCat(_NamedIntEnum):
    """Originator category (``origin.orCat``) sent with every control command."""

    NOT_SUPPORTED = 0
    BAY_CONTROL = 1
    STATION_CONTROL = 2
    REMOTE_CONTROL = 3
    AUTOMATIC_BAY = 4
    AUTOMATIC_STATION = 5
    AUTOMATIC_REMOTE = 6
    MAINTENANCE = 7
    PROCESS = 8


class ControlError(_NamedIntEnum):
    """``Error`` of a LastApplError."""

    NO_ERROR = 0
    UNKNOWN = 1
    TIMEOUT_TEST_NOT_OK = 2
    OPERATOR_TEST_NOT_OK = 3

    @classmethod
    def _missing_(cls, value: object) -> "ControlError":
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.UNKNOWN
        return None  # type: ignore[return-value]


class AddCause(_NamedIntEnum):
    """Why a server refused or aborted a control command (``AddCause`` of a
    LastApplError, IEC 61850-7-2; the numbering libiec61850 1.6 uses). Values
    outside this list are reported as ``UNKNOWN``."""

    UNKNOWN = 0
    NOT_SUPPORTED = 1
    BLOCKED_BY_SWITCHING_HIERARCHY = 2
    SELECT_FAILED = 3
    INVALID_POSITION = 4
    POSITION_REACHED = 5
    PARAMETER_CHANGE_IN_EXECUTION = 6
    STEP_LIMIT = 7
    BLOCKED_BY_MODE = 8
    BLOCKED_BY_PROCESS = 9
    BLOCKED_BY_INTERLOCKING = 10
    BLOCKED_BY_SYNCHROCHECK = 11
    COMMAND_ALREADY_IN_EXECUTION = 12
    BLOCKED_BY_HEALTH = 13
    #: 1-of-n control
    ONE_OF_N_CONTROL = 14
    ABORTION_BY_CANCEL = 15
    TIME_LIMIT_OVER = 16
    ABORTION_BY_TRIP = 17
    OBJECT_NOT_SELECTED = 18
    OBJECT_ALREADY_SELECTED = 19
    NO_ACCESS_AUTHORITY = 20
    ENDED_WITH_OVERSHOOT = 21
    ABORTION_DUE_TO_DEVIATION = 22
    ABORTION_BY_COMMUNICATION_LOSS = 23
    BLOCKED_BY_COMMAND = 24
    NONE = 25
    INCONSISTENT_PARAMETERS = 26
    LOCKED_BY_OTHER_CLIENT = 27

    @classmethod
    def _missing_(cls, value: object) -> "AddCause":
        # A server may send a value this list does not know: treat it as UNKNOWN.
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.UNKNOWN
        return None  # type: ignore[return-value]
