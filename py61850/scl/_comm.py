"""The Communication section as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Communication", "SubNetwork", "ConnectedAP", "ControlBlockAddress"]


@dataclass
class ControlBlockAddress:
    """A ``GSE`` or ``SMV`` address of a control block (MAC-Address, APPID, VLAN-ID...)."""

    ld_inst: str
    cb_name: str
    address: dict[str, str] = field(default_factory=dict)
    min_time: int | None = None
    max_time: int | None = None


@dataclass
class ConnectedAP:
    """An access point attached to a subnetwork; ``address`` maps ``P`` types to their text."""

    ied_name: str
    ap_name: str
    address: dict[str, str] = field(default_factory=dict)
    gse: list[ControlBlockAddress] = field(default_factory=list)
    smv: list[ControlBlockAddress] = field(default_factory=list)
    desc: str | None = None

    @property
    def ip(self) -> str | None:
        """``P type="IP"``."""
        return self.address.get("IP") or None

    @property
    def ip_subnet(self) -> str | None:
        """``P type="IP-SUBNET"``."""
        return self.address.get("IP-SUBNET") or None

    @property
    def ip_gateway(self) -> str | None:
        """``P type="IP-GATEWAY"``."""
        return self.address.get("IP-GATEWAY") or None

    @property
    def port(self) -> int | None:
        """``P type="MMS-Port"`` (or ``TCP-Port``) as an int; ``None`` means the default 102."""
        p = self.address.get("MMS-Port") or self.address.get("TCP-Port")
        return int(p) if p and p.isdigit() else None


@dataclass
class SubNetwork:
    """A ``SubNetwork`` (``type`` e.g. ``8-MMS``); ``bit_rate`` as written, e.g. ``"100 Mb/s"``."""

    name: str
    type: str | None = None
    desc: str | None = None
    bit_rate: str | None = None
    connected_aps: list[ConnectedAP] = field(default_factory=list)


@dataclass
class Communication:
    """The ``Communication`` section of a document."""

    sub_networks: list[SubNetwork] = field(default_factory=list)

    def connected_ap(self, ied_name: str, ap_name: str | None = None) -> ConnectedAP | None:
        """The first ConnectedAP of ``ied_name`` (and ``ap_name`` if given), or ``None``."""
        for sn in self.sub_networks:
            for cap in sn.connected_aps:
                if cap.ied_name == ied_name and (ap_name is None or cap.ap_name == ap_name):
                    return cap
        return None
