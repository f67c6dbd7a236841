"""GOOSE and sampled value control blocks end to end: OUR client (read_gocb / set_gocb_values
/ update_gocb_values, read_svcb / set_svcb_values) against OUR server (GSEControl and
SampledValueControl with their GSE/SMV addresses from SCL), both in this process on
127.0.0.1, and the GoCB section of ``py61850 demo``.

Model: ``examples/simple_io.icd``: TESTGenericIO/LLN0 has GoCB ``gcbEvents`` (data set
Events, GoID "TESTGenericIO/LLN0.gcbEvents", ConfRev 1, MAC 01-0C-CD-01-00-01, APPID 0x1001,
VLAN 5, priority 4, MinTime 4, MaxTime 1000) and MSVCB ``svcbMeas`` (data set Measurements,
smvID TESTMeas, smpRate 80, SmpPerPeriod, nofASDU 1, sampleSynchronized + sampleRate, MAC
01-0C-CD-04-00-01, APPID 0x4001, VLAN 0, priority 4).
"""
from __future__ import annotations

import io
from typing import Any, Iterator

import pytest

from peers.process import DEFAULT_SCL
from py61850.client import (
    FunctionalConstraint as FC,
    GooseControlBlock,
    IedClientError,
    IedConnection,
    IedConnectionException,
    MmsValue,
    PhyComAddress,
    SmpMod,
    SVControlBlock,
    SVOptions,
)
from py61850.server import IedServer

LD = "TESTGenericIO"
GOCB = f"{LD}/LLN0.GO.gcbEvents"
MSVCB = f"{LD}/LLN0.MS.svcbMeas"


@pytest.fixture
def server() -> Iterator[IedServer]:
    srv = IedServer.from_scl(DEFAULT_SCL)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


@pytest.fixture
def conn(server: IedServer) -> Iterator[IedConnection]:
    with IedConnection("127.0.0.1", server.port) as c:
        yield c


def code(exc: pytest.ExceptionInfo[IedConnectionException]) -> IedClientError:
    return exc.value.error_code


# ----------------------------------------------------------------- GoCB


def test_gocb_attributes_come_from_the_scl(server: IedServer, conn: IedConnection) -> None:
    assert server.goose_control_blocks == [GOCB]
    gocb = conn.read_gocb(GOCB)
    assert isinstance(gocb, GooseControlBlock)
    assert gocb.reference == GOCB
    assert gocb.go_ena is False
    assert gocb.go_id == "TESTGenericIO/LLN0.gcbEvents"
    assert gocb.dataset == f"{LD}/LLN0$Events"
    assert gocb.conf_rev == 1
    assert gocb.nds_com is False
    assert gocb.fixed_offs is False
    assert (gocb.min_time, gocb.max_time) == (4, 1000)
    assert gocb.dst_address == PhyComAddress("01-0C-CD-01-00-01", 0x1001, 5, 4)
    assert str(gocb.dst_address) == "01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"
    # the other spellings
    assert conn.read_gocb(f"{LD}/LLN0.gcbEvents").go_id == gocb.go_id
    assert conn.read_gocb(f"{LD}/LLN0$GO$gcbEvents").conf_rev == 1


def test_gocb_enable_and_reconfigure_while_disabled(conn: IedConnection) -> None:
    gocb = conn.read_gocb(GOCB)
    gocb.go_id = "Feeder1/Events"
    gocb.dst_address = PhyComAddress("01-0C-CD-01-00-2A", 0x102A, 7, 6)
    gocb.dataset = f"{LD}/LLN0$Measurements"
    conn.set_gocb_values(gocb)
    back = conn.read_gocb(GOCB)
    assert (back.go_id, back.dataset) == ("Feeder1/Events", f"{LD}/LLN0$Measurements")
    assert back.dst_address == PhyComAddress("01-0C-CD-01-00-2A", 0x102A, 7, 6)
    assert back.conf_rev == 2  # a new data set is a new configuration revision (IEC 61850-7-2)
    back.go_ena = True
    conn.set_gocb_values(back)
    assert conn.read_gocb(GOCB).go_ena is True
    # while enabled: GoID, DatSet and DstAddress are fixed
    en = conn.read_gocb(GOCB)
    en.go_id = "Other"
    with pytest.raises(IedConnectionException) as exc:
        conn.set_gocb_values(en)
    assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
    conn.update_gocb_values(en)  # forgets the local change
    assert en.go_id == "Feeder1/Events"
    en.dst_address = "01-0C-CD-01-00-01 APPID 0x1001 VLAN 5 prio 4"
    with pytest.raises(IedConnectionException) as exc:
        conn.set_gocb_values(en)
    assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
    en = conn.read_gocb(GOCB)
    en.go_ena = False
    conn.set_gocb_values(en)
    assert conn.read_gocb(GOCB).go_ena is False


def test_gocb_refuses_bad_writes(conn: IedConnection) -> None:
    gocb = conn.read_gocb(GOCB)
    gocb.dataset = f"{LD}/LLN0$NoSuchSet"
    with pytest.raises(IedConnectionException) as exc:
        conn.set_gocb_values(gocb)
    assert code(exc) == IedClientError.OBJECT_VALUE_INVALID
    for attr, value in (("ConfRev", MmsValue.uint32(7)), ("MinTime", MmsValue.uint32(1)),
                        ("NdsCom", MmsValue.boolean(True))):
        with pytest.raises(IedConnectionException) as exc:
            conn.write_value(f"{LD}/LLN0.gcbEvents.{attr}", FC.GO, value)
        assert code(exc) == IedClientError.ACCESS_DENIED, attr
    back = conn.read_gocb(GOCB)
    assert (back.dataset, back.conf_rev, back.min_time) == (f"{LD}/LLN0$Events", 1, 4)


def test_gocb_of_a_second_client_sees_the_change(server: IedServer, conn: IedConnection) -> None:
    gocb = conn.read_gocb(GOCB)
    gocb.enable()
    with IedConnection("127.0.0.1", server.port) as other:
        assert other.read_gocb(GOCB).go_ena is True
    gocb.disable()
    assert conn.read_gocb(GOCB).go_ena is False


# ----------------------------------------------------------------- SVCB


def test_msvcb_attributes_come_from_the_scl(server: IedServer, conn: IedConnection) -> None:
    assert server.sv_control_blocks == [MSVCB]
    svcb = conn.read_svcb(MSVCB)
    assert isinstance(svcb, SVControlBlock)
    assert svcb.multicast is True
    assert svcb.sv_ena is False
    assert svcb.sv_id == "TESTMeas"
    assert svcb.dataset == f"{LD}/LLN0$Measurements"
    assert svcb.conf_rev == 1
    assert svcb.smp_rate == 80
    assert svcb.smp_mod == SmpMod.SAMPLES_PER_PERIOD
    assert svcb.opt_flds == SVOptions.SAMPLE_SYNCHRONIZED | SVOptions.SAMPLE_RATE
    assert svcb.no_asdu == 1
    assert svcb.dst_address == PhyComAddress("01-0C-CD-04-00-01", 0x4001, 0, 4)
    assert conn.read_svcb(f"{LD}/LLN0.svcbMeas").sv_id == "TESTMeas"  # MS found without the FC


def test_msvcb_enable(conn: IedConnection) -> None:
    svcb = conn.read_svcb(MSVCB)
    svcb.sv_id = "Meas2"
    conn.set_svcb_values(svcb)
    svcb.enable()
    back = conn.read_svcb(MSVCB)
    assert (back.sv_ena, back.sv_id) == (True, "Meas2")
    back.sv_id = "Meas3"
    with pytest.raises(IedConnectionException) as exc:
        conn.set_svcb_values(back)
    assert code(exc) == IedClientError.TEMPORARILY_UNAVAILABLE
    back = conn.read_svcb(MSVCB)
    back.disable()
    assert conn.read_svcb(MSVCB).sv_ena is False


def sv_model() -> dict[str, Any]:
    """LD SVLD0 with a unicast SVCB ``usv`` and a GoCB ``gcb`` without an address."""
    member = {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "AnIn1", "da_name": "mag.f",
              "fc": "MX"}
    return {
        "name": "SV",
        "logical_devices": [{"inst": "LD0", "logical_nodes": [
            {"ln_class": "LLN0",
             "data_objects": [{"name": "Mod", "children": [{"name": "stVal", "fc": "ST", "btype": "Enum",
                                                             "value": 1}]}],
             "data_sets": [{"name": "Meas", "members": [member]}],
             "sv_controls": [{"name": "usv", "smv_id": "U1", "dataset": "Meas", "conf_rev": 3, "multicast": False,
                              "smp_rate": 4000, "nof_asdu": 2, "smp_mod": "SmpPerSec",
                              "opts": {"refresh_time": True, "data_set": True},
                              "address": {"MAC-Address": "01-0C-CD-04-01-02", "APPID": "4ABC",
                                          "VLAN-ID": "00A", "VLAN-PRIORITY": "5"}}],
             "gse_controls": [{"name": "gcb", "app_id": "SV/gcb", "dataset": "Meas", "conf_rev": 2,
                               "fixed_offs": True}]},
            {"ln_class": "GGIO", "inst": "1", "data_objects": [
                {"name": "AnIn1", "children": [
                    {"name": "mag", "fc": "MX", "btype": "Struct", "children": [
                        {"name": "f", "fc": "MX", "btype": "FLOAT32"}]}]}]}]}],
    }


def test_usvcb_reservation_and_dict_model() -> None:
    with IedServer.from_dict(sv_model()) as srv:
        srv.start(0, "127.0.0.1")
        assert srv.sv_control_blocks == ["SVLD0/LLN0.US.usv"]
        assert srv.goose_control_blocks == ["SVLD0/LLN0.GO.gcb"]
        with IedConnection("127.0.0.1", srv.port) as a, IedConnection("127.0.0.1", srv.port) as b:
            usv = a.read_svcb("SVLD0/LLN0.usv")  # MS tried first, then US
            assert usv.multicast is False
            assert (usv.sv_id, usv.conf_rev, usv.smp_rate, usv.no_asdu) == ("U1", 3, 4000, 2)
            assert usv.smp_mod == SmpMod.SAMPLES_PER_SECOND
            assert usv.opt_flds == SVOptions.REFRESH_TIME | SVOptions.DATA_SET
            assert usv.dst_address == PhyComAddress("01-0C-CD-04-01-02", 0x4ABC, 10, 5)
            assert usv.resv is False
            usv.resv = True
            a.set_svcb_values(usv)
            assert a.read_svcb("SVLD0/LLN0.US.usv").resv is True
            theirs = b.read_svcb("SVLD0/LLN0.US.usv")
            theirs.sv_ena = True
            with pytest.raises(IedConnectionException):
                b.set_svcb_values(theirs)  # reserved by a
            gcb = b.read_gocb("SVLD0/LLN0.gcb")
            assert (gcb.go_id, gcb.conf_rev, gcb.fixed_offs) == ("SV/gcb", 2, True)
            assert gcb.dst_address == PhyComAddress(bytes(6), 0, 0, 0)  # no GSE address in the model


def test_bad_scl_address_is_left_zero(caplog: pytest.LogCaptureFixture) -> None:
    model = sv_model()
    model["logical_devices"][0]["logical_nodes"][0]["sv_controls"][0]["address"]["MAC-Address"] = "nonsense"
    with IedServer.from_dict(model) as srv:
        assert srv.sv_control_blocks == ["SVLD0/LLN0.US.usv"]
    assert "MAC-Address 'nonsense'" in caplog.text


# ----------------------------------------------------------------- demo


def test_demo_gocb_section() -> None:
    from rich.console import Console

    from py61850._demo import run_demo

    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False, color_system=None)
    assert run_demo(console) == 0
    text = out.getvalue()
    section = text[text.index("12. GOOSE control block"):]
    assert "DEMOIO/LLN0.GO.gcbAlarms: GoID 'DEMO/Alarms', data set DEMOIO/LLN0$Alarms, ConfRev 1, GoEna False" \
        in section
    assert "destination 01-0C-CD-01-00-10 APPID 0x3001 VLAN 0 prio 4, MinTime 10 ms, MaxTime 2000 ms" in section
    assert "GoEna := True -> read back True" in section
