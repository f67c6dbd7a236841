"""DataSet: the client-side view of a data set read from a server."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterator, Optional, Sequence, Union

from ._enums import IedClientError
from ._errors import IedConnectionException, ObjectReferenceInvalidError
from ._values import MmsValue

if TYPE_CHECKING:  # pragma: no cover
    from ._connection import IedConnection

__all__ = ["DataSet"]

log = logging.getLogger("py61850.client.dataset")


def _norm_member(ref: str) -> str:
    """A member reference as compared: surrounding blanks ignored."""
    return ref.strip()


class DataSet:
    """Values of a data set, as returned by
    :meth:`~py61850.client.IedConnection.read_dataset`.

    ``ds[i]`` is the value of member ``i``; ``ds["LD/LN.DO.DA[FC]"]`` the value
    of the member with that reference (the member list is fetched from the server
    with GetDataSetDirectory the first time it is needed). A member the server
    could not read holds an :class:`~py61850.client.MmsValue` whose
    :attr:`~py61850.client.MmsValue.data_access_error` is set; :meth:`errors`
    lists those as exceptions.

    :ivar reference: the data set reference (``"LD/LN.name"`` or ``"@name"``)
    """

    __slots__ = ("reference", "_conn", "_values", "_members")

    def __init__(self, connection: "IedConnection", reference: str, values: Sequence[MmsValue],
                 members: Optional[Sequence[str]] = None) -> None:
        self.reference = reference
        self._conn = connection
        self._values: list[MmsValue] = list(values)
        self._members: Optional[list[str]] = list(members) if members is not None else None

    # ------------------------------------------------------------------ values

    @property
    def size(self) -> int:
        """Number of members (values)."""
        return len(self._values)

    @property
    def values(self) -> list[MmsValue]:
        """The member values in member order (a copy of the list)."""
        return list(self._values)

    def _set_values(self, values: Sequence[MmsValue]) -> None:
        self._values = list(values)

    def update_values(self) -> None:
        """Read the values again from the server (one MMS Read).

        :raises IedConnectionException: the read failed as a whole
        """
        self._conn.update_dataset_values(self)

    def errors(self) -> list[tuple[int, IedConnectionException]]:
        """``(index, exception)`` for every member the server could not read."""
        out: list[tuple[int, IedConnectionException]] = []
        for i, v in enumerate(self._values):
            e = v.error
            if e is not None:
                out.append((i, e))
        return out

    # ----------------------------------------------------------------- members

    @property
    def members(self) -> list[str]:
        """Member references ``"LD/LN.DO.DA[FC]"`` in order (fetched once from the
        server with GetDataSetDirectory).

        :raises IedConnectionException: the directory could not be read
        """
        if self._members is None:
            self._members = self._conn.get_dataset_directory(self.reference)
        return list(self._members)

    def index_of(self, member: Union[str, bytes]) -> int:
        """Index of a member reference.

        :raises KeyError: no such member
        """
        key = member.decode("utf-8") if isinstance(member, (bytes, bytearray)) else str(member)
        key = _norm_member(key)
        for i, m in enumerate(self.members):
            if _norm_member(m) == key:
                return i
        # A reference without FC matches a single member with that reference.
        if not key.endswith("]"):
            hits = [i for i, m in enumerate(self.members) if m.rsplit("[", 1)[0] == key]
            if len(hits) == 1:
                return hits[0]
        raise KeyError(key)

    # ---------------------------------------------------------------- protocol

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[MmsValue]:
        return iter(list(self._values))

    def __getitem__(self, key: Union[int, str, bytes]) -> MmsValue:
        if isinstance(key, bool):
            raise TypeError("a data set is indexed by position or member reference")
        if isinstance(key, int):
            return self._values[key]
        if isinstance(key, (str, bytes, bytearray)):
            i = self.index_of(key)
            if i >= len(self._values):
                raise ObjectReferenceInvalidError(
                    f"{self.reference}: member {i} has no value ({len(self._values)} values)",
                    IedClientError.OBJECT_REFERENCE_INVALID,
                )
            return self._values[i]
        raise TypeError("a data set is indexed by position or member reference")

    def __repr__(self) -> str:
        return f"DataSet({self.reference!r}, size={self.size})"
