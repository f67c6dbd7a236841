"""The peers' clients read and set OUR server's GOOSE and sampled value control blocks:
pyiec61850-ng (``IedConnection_getGoCBValues`` / ``setGoCBValues`` with
``ClientGooseControlBlock``, ``ClientSVControlBlock``; :class:`peers.clients.PyiecServiceClient`)
and the Rust-based ``iec61850`` client, which has no GoCB service, with plain reads of the
GoCB attributes (FC GO).

Our :class:`~py61850.server.IedServer` runs in this process on ``examples/simple_io.icd``:
GoCB TESTGenericIO/LLN0.gcbEvents (GSE address 01-0C-CD-01-00-01, APPID 0x1001, VLAN 5,
priority 4, MinTime 4, MaxTime 1000) and MSVCB svcbMeas (SMV address 01-0C-CD-04-00-01,
APPID 0x4001). Unlike libiec61850's server (which takes GoEna writes only), ours takes
GoID, DatSet and DstAddress while the GoCB is disabled (IEC 61850-7-2).
"""
from __future__ import annotations

from typing import Iterator

import pytest

from peers.clients import PeerServiceError, PyiecServiceClient, RustServiceSession
from peers.process import DEFAULT_SCL
from py61850.server import IedServer

import pyiec61850.pyiec61850 as L  # noqa: N812  (after the peers import, as the peers do)

LD = "TESTGenericIO"
GOCB = f"{LD}/LLN0.gcbEvents"
MSVCB = f"{LD}/LLN0.svcbMeas"
GOCB_SCL = {
    "go_ena": False, "go_id": "TESTGenericIO/LLN0.gcbEvents", "dataset": f"{LD}/LLN0$Events", "conf_rev": 1,
    "nds_com": False, "min_time": 4, "max_time": 1000, "fixed_offs": False,
    "dst_address": {"mac": "01-0C-CD-01-00-01", "appid": 0x1001, "vlan_id": 5, "vlan_priority": 4},
}


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def pyiec(server: IedServer) -> Iterator[PyiecServiceClient]:
    with PyiecServiceClient("127.0.0.1", server.port) as c:
        yield c


def test_pyiec_reads_the_gocb(pyiec: PyiecServiceClient) -> None:
    assert pyiec.read_gocb(GOCB) == GOCB_SCL


def test_pyiec_enables_and_reconfigures_the_gocb(server: IedServer, pyiec: PyiecServiceClient) -> None:
    new_addr = {"mac": "01-0C-CD-01-00-2A", "appid": 0x102A, "vlan_id": 7, "vlan_priority": 6}
    pyiec.set_gocb(GOCB, go_id="Feeder1/Events", dst_address=new_addr)
    pyiec.set_gocb(GOCB, dataset=f"{LD}/LLN0$Measurements")
    gocb = pyiec.read_gocb(GOCB)
    assert (gocb["go_id"], gocb["dataset"], gocb["dst_address"]) == (
        "Feeder1/Events", f"{LD}/LLN0$Measurements", new_addr)
    pyiec.set_gocb(GOCB, go_ena=True)
    assert pyiec.read_gocb(GOCB)["go_ena"] is True
    with pytest.raises(PeerServiceError) as err:  # fixed while enabled
        pyiec.set_gocb(GOCB, go_id="Other")
    assert err.value.code == L.IED_ERROR_TEMPORARILY_UNAVAILABLE
    pyiec.set_gocb(GOCB, go_ena=False)
    assert pyiec.read_gocb(GOCB)["go_ena"] is False
    with pytest.raises(PeerServiceError) as err:  # no such data set
        pyiec.set_gocb(GOCB, dataset=f"{LD}/LLN0$NoSuchSet")
    assert err.value.code == L.IED_ERROR_OBJECT_VALUE_INVALID
    assert pyiec.read_gocb(GOCB)["dataset"] == f"{LD}/LLN0$Measurements"
    # what our own server API sees is the same data
    assert server.get_value(f"{LD}/LLN0.gcbEvents.GoID", "GO") == "Feeder1/Events"


def test_pyiec_reads_and_enables_the_msvcb(pyiec: PyiecServiceClient) -> None:
    svcb = pyiec.read_svcb(MSVCB)
    assert svcb == {
        "multicast": True, "sv_ena": False, "resv": None, "sv_id": "TESTMeas",
        "dataset": f"{LD}/LLN0$Measurements", "conf_rev": 1, "smp_rate": 80, "opt_flds": 0b110,
        "smp_mod": 0, "no_asdu": 1,
        "dst_address": {"mac": "01-0C-CD-04-00-01", "appid": 0x4001, "vlan_id": 0, "vlan_priority": 4},
    }
    pyiec.set_svcb(MSVCB, sv_ena=True)
    assert pyiec.read_svcb(MSVCB)["sv_ena"] is True
    pyiec.set_svcb(MSVCB, sv_ena=False)
    assert pyiec.read_svcb(MSVCB)["sv_ena"] is False


def test_rust_client_reads_the_gocb_attributes(server: IedServer) -> None:
    with RustServiceSession("127.0.0.1", server.port) as c:
        assert c.read_value(f"{GOCB}.GoEna", "GO") is False
        assert c.read_value(f"{GOCB}.GoID", "GO") == GOCB_SCL["go_id"]
        assert c.read_value(f"{GOCB}.DatSet", "GO") == GOCB_SCL["dataset"]
        assert c.read_value(f"{GOCB}.ConfRev", "GO") == 1
        assert (c.read_value(f"{GOCB}.MinTime", "GO"), c.read_value(f"{GOCB}.MaxTime", "GO")) == (4, 1000)
        assert c.read_value(f"{MSVCB}.MsvID", "MS") == "TESTMeas"
        assert c.read_value(f"{MSVCB}.SmpRate", "MS") == 80
        with pytest.raises(PeerServiceError):  # no such control block
            c.read_value(f"{LD}/LLN0.gcbNone.GoID", "GO")
