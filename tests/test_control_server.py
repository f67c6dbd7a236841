"""Control commands from the peers' clients to OUR server: pyiec61850-ng (libiec61850's
``ControlObjectClient``, in a child process: :class:`peers.clients.PyiecControlClient`) and
the Rust-based ``iec61850`` client (:class:`peers.clients.RustControlSession`).

Our :class:`~py61850.server.IedServer` runs in this process, built from :data:`CONTROL_ICD`
(IED ``CTL``, domain ``CTLLD1``): GGIO1 SPCSO1..6 are SPCs in every control model
(direct-normal, sbo-normal, direct-enhanced, sbo-enhanced, status-only, and direct-enhanced
with ``operTm``), ISCSO1 an INC, AnOut1 an APC, CSWI1.Pos a DPC breaker (sbo-enhanced).
Handlers are installed with :meth:`IedServer.on_control` and record what they see.

Peer-client facts these tests rely on (tests/peers/README.md):

* pyiec61850-ng shows the AddCause of the LastApplError a server sends with a refusal
  (``ControlObjectClient_getLastApplError``); on CommandTermination+ it resets it to 0, on
  CommandTermination- it holds the AddCause sent.
* both clients increment ctlNum before a select or a direct operate (after
  ``set_ctl_num(n)`` it carries ``n + 1``); the operate of an SBO model carries the
  ctlNum as it is (the select's).
* the Rust client returns ``(success, add_cause)``; for the enhanced models its ``operate``
  waits for the CommandTermination (after a refusal: until its request timeout). It misses
  the AddCause of a LastApplError that precedes a negative response. It cannot send a
  structured ctlVal (no APC) nor operTm.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, Optional, Union

import pytest

from peers.clients import PyiecControlClient, RustControlSession
from py61850.server import (
    AddCause,
    BitString,
    ControlAction,
    ControlModel,
    ControlRefused,
    ControlStage,
    IedServer,
    OrCat,
)

CONTROL_ICD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- control_ied.icd: written for the py61850 control tests. IED "CTL", LD "LD1" (domain
     CTLLD1): GGIO1 SPCSO1..6 (SPC: direct-normal, sbo-normal, direct-enhanced, sbo-enhanced,
     status-only, direct-enhanced with operTm and Cancel), ISCSO1 (INC direct-normal), AnOut1 (APC
     direct-normal); CSWI1 Pos (DPC sbo-enhanced, a breaker). -->
<SCL xmlns="http://www.iec.ch/61850/2003/SCL" version="2007" revision="B" release="4">
  <Header id="py61850-control-tests" version="1" revision="0" toolID="hand-written" nameStructure="IEDName"/>
  <IED name="CTL" manufacturer="py61850" type="ControlTest" configVersion="1.0">
    <AccessPoint name="AP1">
      <Server>
        <Authentication none="true"/>
        <LDevice inst="LD1">
          <LN0 lnClass="LLN0" inst="" lnType="CTL_LLN0">
            <DOI name="Mod"><DAI name="stVal"><Val>on</Val></DAI></DOI>
          </LN0>
          <LN lnClass="GGIO" inst="1" lnType="CTL_GGIO">
            <DOI name="SPCSO1"><DAI name="stVal"><Val>false</Val></DAI>
              <DAI name="ctlModel"><Val>direct-with-normal-security</Val></DAI></DOI>
            <DOI name="SPCSO2"><DAI name="stVal"><Val>false</Val></DAI>
              <DAI name="ctlModel"><Val>sbo-with-normal-security</Val></DAI>
              <DAI name="sboTimeout"><Val>5000</Val></DAI></DOI>
            <DOI name="SPCSO3"><DAI name="stVal"><Val>false</Val></DAI>
              <DAI name="ctlModel"><Val>direct-with-enhanced-security</Val></DAI></DOI>
            <DOI name="SPCSO4"><DAI name="stVal"><Val>false</Val></DAI>
              <DAI name="ctlModel"><Val>sbo-with-enhanced-security</Val></DAI>
              <DAI name="sboTimeout"><Val>30000</Val></DAI></DOI>
            <DOI name="SPCSO5"><DAI name="stVal"><Val>false</Val></DAI>
              <DAI name="ctlModel"><Val>status-only</Val></DAI></DOI>
            <DOI name="SPCSO6"><DAI name="stVal"><Val>false</Val></DAI>
              <DAI name="ctlModel"><Val>direct-with-enhanced-security</Val></DAI></DOI>
            <DOI name="ISCSO1"><DAI name="stVal"><Val>0</Val></DAI>
              <DAI name="ctlModel"><Val>direct-with-normal-security</Val></DAI></DOI>
            <DOI name="AnOut1"><SDI name="mxVal"><DAI name="f"><Val>0</Val></DAI></SDI>
              <DAI name="ctlModel"><Val>direct-with-normal-security</Val></DAI></DOI>
          </LN>
          <LN lnClass="CSWI" inst="1" lnType="CTL_CSWI">
            <DOI name="Pos"><DAI name="stVal"><Val>off</Val></DAI>
              <DAI name="ctlModel"><Val>sbo-with-enhanced-security</Val></DAI>
              <DAI name="sboTimeout"><Val>30000</Val></DAI></DOI>
          </LN>
        </LDevice>
      </Server>
    </AccessPoint>
  </IED>
  <DataTypeTemplates>
    <LNodeType id="CTL_LLN0" lnClass="LLN0">
      <DO name="Mod" type="CTL_ENS"/>
    </LNodeType>
    <LNodeType id="CTL_GGIO" lnClass="GGIO">
      <DO name="SPCSO1" type="CTL_SPC_direct"/>
      <DO name="SPCSO2" type="CTL_SPC_sbo"/>
      <DO name="SPCSO3" type="CTL_SPC_direct"/>
      <DO name="SPCSO4" type="CTL_SPC_sbow"/>
      <DO name="SPCSO5" type="CTL_SPC_direct"/>
      <DO name="SPCSO6" type="CTL_SPC_timed"/>
      <DO name="ISCSO1" type="CTL_INC"/>
      <DO name="AnOut1" type="CTL_APC"/>
    </LNodeType>
    <LNodeType id="CTL_CSWI" lnClass="CSWI">
      <DO name="Pos" type="CTL_DPC"/>
    </LNodeType>
    <DOType id="CTL_ENS" cdc="ENS">
      <DA name="stVal" bType="Enum" type="BehaviourModeKind" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
    </DOType>
    <DOType id="CTL_SPC_direct" cdc="SPC">
      <DA name="origin" bType="Struct" type="CTL_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="BOOLEAN" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="Oper" bType="Struct" type="CTL_SPCOperate" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
    </DOType>
    <DOType id="CTL_SPC_sbo" cdc="SPC">
      <DA name="origin" bType="Struct" type="CTL_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="BOOLEAN" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="SBO" bType="VisString65" fc="CO"/>
      <DA name="Oper" bType="Struct" type="CTL_SPCOperate" fc="CO"/>
      <DA name="Cancel" bType="Struct" type="CTL_SPCCancel" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
      <DA name="sboTimeout" bType="INT32U" fc="CF"/>
    </DOType>
    <DOType id="CTL_SPC_sbow" cdc="SPC">
      <DA name="origin" bType="Struct" type="CTL_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="BOOLEAN" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="SBOw" bType="Struct" type="CTL_SPCOperate" fc="CO"/>
      <DA name="Oper" bType="Struct" type="CTL_SPCOperate" fc="CO"/>
      <DA name="Cancel" bType="Struct" type="CTL_SPCCancel" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
      <DA name="sboTimeout" bType="INT32U" fc="CF"/>
    </DOType>
    <DOType id="CTL_SPC_timed" cdc="SPC">
      <DA name="stVal" bType="BOOLEAN" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="Oper" bType="Struct" type="CTL_SPCOperateTm" fc="CO"/>
      <DA name="Cancel" bType="Struct" type="CTL_SPCCancelTm" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
    </DOType>
    <DOType id="CTL_DPC" cdc="DPC">
      <DA name="origin" bType="Struct" type="CTL_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="Dbpos" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="SBOw" bType="Struct" type="CTL_SPCOperate" fc="CO"/>
      <DA name="Oper" bType="Struct" type="CTL_SPCOperate" fc="CO"/>
      <DA name="Cancel" bType="Struct" type="CTL_SPCCancel" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
      <DA name="sboTimeout" bType="INT32U" fc="CF"/>
    </DOType>
    <DOType id="CTL_INC" cdc="INC">
      <DA name="stVal" bType="INT32" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="Oper" bType="Struct" type="CTL_INCOperate" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
    </DOType>
    <DOType id="CTL_APC" cdc="APC">
      <DA name="mxVal" bType="Struct" type="CTL_AnalogueValue" fc="MX" dchg="true"/>
      <DA name="q" bType="Quality" fc="MX" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="MX"/>
      <DA name="Oper" bType="Struct" type="CTL_APCOperate" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
    </DOType>
    <DAType id="CTL_AnalogueValue">
      <BDA name="f" bType="FLOAT32"/>
    </DAType>
    <DAType id="CTL_Originator">
      <BDA name="orCat" bType="Enum" type="OrCatKind"/>
      <BDA name="orIdent" bType="Octet64"/>
    </DAType>
    <DAType id="CTL_SPCOperate">
      <BDA name="ctlVal" bType="BOOLEAN"/>
      <BDA name="origin" bType="Struct" type="CTL_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
      <BDA name="Check" bType="Check"/>
    </DAType>
    <DAType id="CTL_SPCOperateTm">
      <BDA name="ctlVal" bType="BOOLEAN"/>
      <BDA name="operTm" bType="Timestamp"/>
      <BDA name="origin" bType="Struct" type="CTL_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
      <BDA name="Check" bType="Check"/>
    </DAType>
    <DAType id="CTL_SPCCancel">
      <BDA name="ctlVal" bType="BOOLEAN"/>
      <BDA name="origin" bType="Struct" type="CTL_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
    </DAType>
    <DAType id="CTL_SPCCancelTm">
      <BDA name="ctlVal" bType="BOOLEAN"/>
      <BDA name="operTm" bType="Timestamp"/>
      <BDA name="origin" bType="Struct" type="CTL_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
    </DAType>
    <DAType id="CTL_INCOperate">
      <BDA name="ctlVal" bType="INT32"/>
      <BDA name="origin" bType="Struct" type="CTL_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
      <BDA name="Check" bType="Check"/>
    </DAType>
    <DAType id="CTL_APCOperate">
      <BDA name="ctlVal" bType="Struct" type="CTL_AnalogueValue"/>
      <BDA name="origin" bType="Struct" type="CTL_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
      <BDA name="Check" bType="Check"/>
    </DAType>
    <EnumType id="BehaviourModeKind">
      <EnumVal ord="1">on</EnumVal>
      <EnumVal ord="2">on-blocked</EnumVal>
      <EnumVal ord="3">test</EnumVal>
      <EnumVal ord="4">test/blocked</EnumVal>
      <EnumVal ord="5">off</EnumVal>
    </EnumType>
    <EnumType id="CtlModelKind">
      <EnumVal ord="0">status-only</EnumVal>
      <EnumVal ord="1">direct-with-normal-security</EnumVal>
      <EnumVal ord="2">sbo-with-normal-security</EnumVal>
      <EnumVal ord="3">direct-with-enhanced-security</EnumVal>
      <EnumVal ord="4">sbo-with-enhanced-security</EnumVal>
    </EnumType>
    <EnumType id="OrCatKind">
      <EnumVal ord="0">not-supported</EnumVal>
      <EnumVal ord="1">bay-control</EnumVal>
      <EnumVal ord="2">station-control</EnumVal>
      <EnumVal ord="3">remote-control</EnumVal>
      <EnumVal ord="4">automatic-bay</EnumVal>
      <EnumVal ord="5">automatic-station</EnumVal>
      <EnumVal ord="6">automatic-remote</EnumVal>
      <EnumVal ord="7">maintenance</EnumVal>
      <EnumVal ord="8">process</EnumVal>
    </EnumType>
  </DataTypeTemplates>
</SCL>
"""

D = "CTLLD1/GGIO1"
SPC_DN = f"{D}.SPCSO1"  # direct-normal
SPC_SN = f"{D}.SPCSO2"  # sbo-normal
SPC_DE = f"{D}.SPCSO3"  # direct-enhanced
SPC_SE = f"{D}.SPCSO4"  # sbo-enhanced
SPC_SO = f"{D}.SPCSO5"  # status-only
SPC_TM = f"{D}.SPCSO6"  # direct-enhanced, Oper with operTm
INC = f"{D}.ISCSO1"
APC = f"{D}.AnOut1"
BREAKER = "CTLLD1/CSWI1.Pos"  # DPC, sbo-enhanced

MODELS = {SPC_DN: 1, SPC_SN: 2, SPC_DE: 3, SPC_SE: 4, SPC_SO: 0, SPC_TM: 3, INC: 1, APC: 1, BREAKER: 4}
ENHANCED = {ref for ref, m in MODELS.items() if m in (3, 4)}
RUST_MODEL_NAMES = {0: "status-only", 1: "direct-normal", 2: "sbo-normal", 3: "direct-enhanced", 4: "sbo-enhanced"}

# libiec61850 IedClientError values (pyiec61850-ng)
IED_ERROR_OK = 0
IED_ERROR_ACCESS_DENIED = 21


@pytest.fixture
def scl_path(tmp_path: Any) -> str:
    p = tmp_path / "control_ied.icd"
    p.write_text(CONTROL_ICD, encoding="utf-8")
    return str(p)


@pytest.fixture
def server(scl_path: str) -> Iterator[IedServer]:
    srv = IedServer.from_scl(scl_path)
    srv.start(0, "127.0.0.1")
    yield srv
    srv.close()


class Outcome:
    """The end of a command as the client saw it: ``ok`` and the AddCause it shows."""

    def __init__(self, ok: bool, add_cause: Optional[int], raw: Any) -> None:
        self.ok = ok
        self.add_cause = add_cause
        self.raw = raw

    def __repr__(self) -> str:
        return f"Outcome(ok={self.ok}, add_cause={self.add_cause}, raw={self.raw})"


class PyiecPeer:
    """pyiec61850-ng's ControlObjectClient, results as :class:`Outcome`."""

    kind = "pyiec"

    def __init__(self, port: int) -> None:
        self.c = PyiecControlClient("127.0.0.1", port)

    def create(self, ref: str) -> None:
        out = self.c.create(ref)
        assert out["created"], out
        assert out["model"] == MODELS[ref], out  # libiec61850 read ctlModel from our server

    def params(self, ref: str, **kw: Any) -> None:
        self.c.set_params(ref, **kw)

    @staticmethod
    def _outcome(r: dict[str, Any]) -> Outcome:
        return Outcome(r["ok"], None if r["ok"] else r["appl_error"]["add_cause"], r)

    def select(self, ref: str) -> Outcome:
        return self._outcome(self.c.select(ref))

    def select_with_value(self, ref: str, value: Any) -> Outcome:
        return self._outcome(self.c.select_with_value(ref, value))

    def cancel(self, ref: str, value: Any) -> Outcome:
        return self._outcome(self.c.cancel(ref))

    def operate(self, ref: str, value: Any) -> Outcome:
        """Operate; for the enhanced models also the CommandTermination (+: ok, -: not ok with
        its AddCause)."""
        r = self.c.operate(ref, value)
        if not r["ok"] or ref not in ENHANCED:
            return self._outcome(r)
        terms = self.c.terminations(1, 5.0)
        assert len(terms) == 1, f"expected one CommandTermination, got {terms}"
        t = terms[0]
        assert t["ref"] == ref
        ok = t["add_cause"] == 0 and t["error"] == 0
        return Outcome(ok, None if ok else t["add_cause"], t)

    def close(self) -> None:
        self.c.close()


#: Request timeout of the Rust client (ms): a refused enhanced-security operate returns only
#: after it (the client waits for a CommandTermination that does not come)
RUST_REQUEST_TIMEOUT_MS = 1500


class RustPeer:
    """The Rust client's ControlObjectClient, results as :class:`Outcome`."""

    kind = "rust"

    def __init__(self, port: int) -> None:
        self.c = RustControlSession("127.0.0.1", port, request_timeout_ms=RUST_REQUEST_TIMEOUT_MS)

    def create(self, ref: str) -> None:
        self.c.create(ref, RUST_MODEL_NAMES[MODELS[ref]])

    def params(self, ref: str, **kw: Any) -> None:
        self.c.set_params(ref, **kw)

    @staticmethod
    def _outcome(r: dict[str, Any]) -> Outcome:
        return Outcome(r["ok"], None if r["ok"] else r["add_cause"], r)

    def select(self, ref: str) -> Outcome:
        return self._outcome(self.c.select(ref))

    def select_with_value(self, ref: str, value: Any) -> Outcome:
        return self._outcome(self.c.select_with_value(ref, value))

    def cancel(self, ref: str, value: Any) -> Outcome:
        return self._outcome(self.c.cancel(ref, value))

    def operate(self, ref: str, value: Any) -> Outcome:
        return self._outcome(self.c.operate(ref, value))

    def close(self) -> None:
        self.c.close()


Peer = Union[PyiecPeer, RustPeer]


def open_peer(kind: str, srv: IedServer) -> Peer:
    return PyiecPeer(srv.port) if kind == "pyiec" else RustPeer(srv.port)


@pytest.fixture(params=["pyiec", "rust"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def peer(kind: str, server: IedServer) -> Iterator[Peer]:
    p = open_peer(kind, server)
    yield p
    p.close()


class Recorder:
    """Control handlers that record ``(stage, action, value)`` and answer as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[ControlStage, ControlAction, Any]] = []
        self.answers: dict[ControlStage, Callable[[ControlAction, Any], Any]] = {}
        self.lock = threading.Lock()

    def handler(self, stage: ControlStage) -> Callable[[ControlAction, Any], Any]:
        def run(action: ControlAction, value: Any) -> Any:
            assert action.stage == stage
            with self.lock:
                self.calls.append((stage, action, value))
            answer = self.answers.get(stage)
            return answer(action, value) if answer is not None else None

        return run

    def install(self, srv: IedServer, ref: str, *stages: ControlStage, **kw: Any) -> "Recorder":
        srv.on_control(ref, **{st.value: self.handler(st) for st in stages}, **kw)
        return self

    def stages(self) -> list[tuple[ControlStage, bool]]:
        with self.lock:
            return [(st, a.is_select) for st, a, _ in self.calls]


def refuse(cause: AddCause) -> Any:
    """Raise :class:`ControlRefused` (for lambdas)."""
    raise ControlRefused(cause)


def st_val(srv: IedServer, ref: str) -> Any:
    return srv.get_value(f"{ref}.stVal")


def wait_for(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


# ----------------------------------------------------------------------- the model


def test_control_models_from_scl(server: IedServer) -> None:
    for ref, model in MODELS.items():
        assert server.control_model(ref) == ControlModel(model), ref
    assert server.control_model("CTLLD1/LLN0.Mod") is None  # no Oper: not controllable
    assert server.control_model("CTLLD1/GGIO1.Nope") is None


def test_pyiec_reads_model_and_value_types(server: IedServer) -> None:
    c = PyiecControlClient("127.0.0.1", server.port)
    try:
        created = {ref: c.create(ref) for ref in MODELS}  # once per reference and process
    finally:
        c.close()
    for ref, model in MODELS.items():
        assert created[ref]["created"] and created[ref]["model"] == model, (ref, created[ref])
    # libiec61850 MmsType of Oper.ctlVal: BOOLEAN 2, INTEGER 4, STRUCTURE 1
    assert created[SPC_DN]["ctl_val_type"] == 2
    assert created[INC]["ctl_val_type"] == 4
    assert created[APC]["ctl_val_type"] == 1


def test_on_control_argument_errors(server: IedServer) -> None:
    from py61850.client import ObjectDoesNotExistError

    with pytest.raises(ObjectDoesNotExistError):
        server.on_control("CTLLD1/LLN0.Mod", check=lambda a, v: None)  # not controllable
    with pytest.raises(ObjectDoesNotExistError):
        server.on_control("CTLLD1/GGIO1.Missing", operate=lambda a, v: None)
    with pytest.raises(TypeError):
        server.on_control(SPC_DN, check=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ControlRefused(300)


# ----------------------------------------------------------------------- direct-normal


def test_direct_normal_without_handlers(server: IedServer, peer: Peer) -> None:
    peer.create(SPC_DN)
    peer.params(SPC_DN, or_cat=2, or_ident="op-a", ctl_num=7)
    before = time.time()
    assert peer.operate(SPC_DN, True).ok
    assert st_val(server, SPC_DN) is True
    assert server.get_value(f"{SPC_DN}.origin.orCat") == OrCat.STATION_CONTROL
    assert server.get_value(f"{SPC_DN}.origin.orIdent") == b"op-a"
    assert server.get_value(f"{SPC_DN}.ctlNum") == 8  # the clients send set_ctl_num + 1
    t = server.get_mms_value(f"{SPC_DN}.t").to_timestamp().timestamp
    assert before - 1 <= t <= time.time() + 1
    assert peer.operate(SPC_DN, False).ok
    assert st_val(server, SPC_DN) is False


def test_handlers_see_the_command(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_DN, ControlStage.CHECK, ControlStage.WAIT, ControlStage.OPERATE)
    peer.create(SPC_DN)
    peer.params(SPC_DN, or_cat=3, or_ident="op-b", ctl_num=42, interlock_check=True, synchro_check=True)
    now = time.time()
    assert peer.operate(SPC_DN, True).ok
    assert rec.stages() == [(ControlStage.CHECK, False), (ControlStage.WAIT, False), (ControlStage.OPERATE, False)]
    for stage, a, value in rec.calls:
        assert value is True
        assert a.reference == SPC_DN
        assert a.ctl_model == ControlModel.DIRECT_NORMAL
        assert a.ctl_num == 43  # the clients send set_ctl_num + 1
        assert a.or_cat == OrCat.REMOTE_CONTROL
        assert a.or_ident == b"op-b" and a.or_ident_text == "op-b"
        assert a.interlock_check and a.synchro_check
        assert not a.test and not a.is_select
        assert a.oper_time is None
        assert a.peer.startswith("127.0.0.1:") and a.connection.host == "127.0.0.1"
        assert a.t is not None and abs(a.t.timestamp - now) < 30
        assert a.mms_value is not None and a.mms_value.to_python() is True
    assert st_val(server, SPC_DN) is True  # handlers accepted: the server updated stVal


def test_direct_normal_refused_by_check(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_DN, ControlStage.CHECK, ControlStage.OPERATE)
    rec.answers[ControlStage.CHECK] = lambda a, v: False
    peer.create(SPC_DN)
    out = peer.operate(SPC_DN, True)
    assert not out.ok
    if peer.kind == "pyiec":
        assert out.raw["last_error"] == IED_ERROR_ACCESS_DENIED
    assert rec.stages() == [(ControlStage.CHECK, False)]  # never executed
    assert st_val(server, SPC_DN) is False


def test_direct_normal_refused_by_operate(server: IedServer, peer: Peer) -> None:
    def fail(a: ControlAction, v: Any) -> Any:
        raise ControlRefused(AddCause.BLOCKED_BY_PROCESS, "the drive is jammed")

    rec = Recorder().install(server, SPC_DN, ControlStage.OPERATE)
    rec.answers[ControlStage.OPERATE] = fail
    peer.create(SPC_DN)
    assert not peer.operate(SPC_DN, True).ok
    assert len(rec.calls) == 1
    assert st_val(server, SPC_DN) is False
    assert server.handler_failures == 0  # a refusal is an answer, not a failure


def test_operate_handler_owns_status(server: IedServer, kind: str) -> None:
    """update_status=False: stVal is the operate handler's (here: it does not change it)."""
    rec = Recorder().install(server, SPC_DN, ControlStage.OPERATE, update_status=False)
    p = open_peer(kind, server)
    try:
        p.create(SPC_DN)
        assert p.operate(SPC_DN, True).ok
    finally:
        p.close()
    assert len(rec.calls) == 1
    assert st_val(server, SPC_DN) is False


def test_handler_exception_refuses(server: IedServer) -> None:
    def boom(a: ControlAction, v: Any) -> Any:
        raise RuntimeError("handler bug")

    server.on_control(SPC_DE, operate=boom)
    p = PyiecPeer(server.port)
    try:
        p.create(SPC_DE)
        out = p.operate(SPC_DE, True)
    finally:
        p.close()
    assert not out.ok and out.add_cause == AddCause.UNKNOWN
    assert server.handler_failures == 1
    assert st_val(server, SPC_DE) is False


def test_removing_handlers(server: IedServer, peer: Peer) -> None:
    server.on_control(SPC_DN, check=lambda a, v: False)
    peer.create(SPC_DN)
    assert not peer.operate(SPC_DN, True).ok
    server.on_control(SPC_DN)  # no handlers: accept
    assert peer.operate(SPC_DN, True).ok
    assert st_val(server, SPC_DN) is True


def test_test_mode(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_DN, ControlStage.OPERATE)
    peer.create(SPC_DN)
    peer.params(SPC_DN, test=True)
    assert peer.operate(SPC_DN, True).ok
    assert rec.calls and rec.calls[0][1].test
    assert st_val(server, SPC_DN) is False  # a test command does not change the process


def test_status_only_refuses(server: IedServer, kind: str) -> None:
    rec = Recorder().install(server, SPC_SO, ControlStage.CHECK, ControlStage.OPERATE)
    if kind == "pyiec":
        c = PyiecControlClient("127.0.0.1", server.port)
        try:
            created = c.create(SPC_SO)
            assert not created["created"] or created["model"] == 0
            assert c.write_oper(SPC_SO, True) == IED_ERROR_ACCESS_DENIED  # a plain Write of Oper
        finally:
            c.close()
    else:
        r = RustControlSession("127.0.0.1", server.port)
        try:
            r.create(SPC_SO, "direct-normal")  # the Rust client does not read ctlModel
            assert not r.operate(SPC_SO, True)["ok"]
        finally:
            r.close()
    assert rec.calls == []
    assert st_val(server, SPC_SO) is False


# ----------------------------------------------------------------------- values of other CDCs


def test_inc_value(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, INC, ControlStage.OPERATE)
    peer.create(INC)
    assert peer.operate(INC, 7).ok
    assert rec.calls[0][2] == 7
    assert st_val(server, INC) == 7


def test_apc_structured_value(server: IedServer) -> None:
    seen: list[Any] = []

    def apply(a: ControlAction, value: Any) -> None:
        seen.append(value)
        server.update_value(f"{APC}.mxVal.f", value["f"])

    server.on_control(APC, operate=apply)
    p = PyiecPeer(server.port)
    try:
        p.create(APC)
        assert p.operate(APC, {"f": 2.5}).ok
    finally:
        p.close()
    assert seen == [{"f": 2.5}]
    assert server.get_value(f"{APC}.mxVal.f") == 2.5


def test_apc_bare_float_refused(server: IedServer) -> None:
    """The Rust client sends an APC ctlVal as a bare FLOAT (it cannot encode the
    AnalogueValue structure): our server refuses the type mismatch."""
    rec = Recorder().install(server, APC, ControlStage.CHECK, ControlStage.OPERATE)
    r = RustControlSession("127.0.0.1", server.port)
    try:
        r.create(APC, "direct-normal")
        assert not r.operate(APC, 1.5)["ok"]
    finally:
        r.close()
    assert rec.calls == []
    assert server.get_value(f"{APC}.mxVal.f") == 0.0


# ----------------------------------------------------------------------- sbo-normal


def test_sbo_normal(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_SN, ControlStage.CHECK, ControlStage.OPERATE)
    peer.create(SPC_SN)
    assert peer.select(SPC_SN).ok
    stage, action, value = rec.calls[0]
    assert stage == ControlStage.CHECK and action.is_select
    assert value is None and action.mms_value is None and action.t is None  # a Read of SBO has no parameters
    assert action.ctl_model == ControlModel.SBO_NORMAL
    assert peer.operate(SPC_SN, True).ok
    assert rec.stages()[1:] == [(ControlStage.CHECK, False), (ControlStage.OPERATE, False)]
    assert st_val(server, SPC_SN) is True
    # operate-once: the selection ended with the operate
    assert not peer.operate(SPC_SN, False).ok
    assert st_val(server, SPC_SN) is True


def test_sbo_normal_select_refused(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_SN, ControlStage.CHECK, ControlStage.OPERATE)
    rec.answers[ControlStage.CHECK] = lambda a, v: not a.is_select  # interlocked at select
    peer.create(SPC_SN)
    assert not peer.select(SPC_SN).ok
    assert not peer.operate(SPC_SN, True).ok  # not selected
    assert rec.stages() == [(ControlStage.CHECK, True)]
    assert st_val(server, SPC_SN) is False


def test_select_timeout(scl_path: str, kind: str) -> None:
    srv = IedServer.from_scl(scl_path)
    try:
        srv.set_control_model(SPC_SN, ControlModel.SBO_NORMAL, sbo_timeout=0.3)
        srv.set_control_model(SPC_SE, ControlModel.SBO_ENHANCED, sbo_timeout=0.3)
        srv.start(0, "127.0.0.1")
        p = open_peer(kind, srv)
        try:
            p.create(SPC_SN)
            p.create(SPC_SE)
            assert p.select(SPC_SN).ok
            assert p.select_with_value(SPC_SE, True).ok
            time.sleep(0.6)
            assert not p.operate(SPC_SN, True).ok
            out = p.operate(SPC_SE, True)
            assert not out.ok
            if kind == "pyiec":
                assert out.add_cause == AddCause.OBJECT_NOT_SELECTED
            # a fresh selection works again
            assert p.select(SPC_SN).ok and p.operate(SPC_SN, True).ok
        finally:
            p.close()
        assert st_val(srv, SPC_SN) is True and st_val(srv, SPC_SE) is False
    finally:
        srv.close()


def test_operate_many(scl_path: str) -> None:
    srv = IedServer.from_scl(scl_path)
    try:
        srv.set_control_model(SPC_SE, ControlModel.SBO_ENHANCED, sbo_timeout=5.0, operate_many=True)
        srv.start(0, "127.0.0.1")
        p = PyiecPeer(srv.port)
        try:
            p.create(SPC_SE)
            assert p.select_with_value(SPC_SE, True).ok
            assert p.operate(SPC_SE, True).ok
            assert p.operate(SPC_SE, True).ok  # still selected
        finally:
            p.close()
    finally:
        srv.close()


# ----------------------------------------------------------------------- direct-enhanced


def test_direct_enhanced_success(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_DE, ControlStage.CHECK, ControlStage.WAIT, ControlStage.OPERATE)
    peer.create(SPC_DE)
    out = peer.operate(SPC_DE, True)  # pyiec: positive response, then CommandTermination+
    assert out.ok, out
    assert [st for st, _ in rec.stages()] == [ControlStage.CHECK, ControlStage.WAIT, ControlStage.OPERATE]
    assert rec.calls[0][1].ctl_model == ControlModel.DIRECT_ENHANCED
    assert st_val(server, SPC_DE) is True


def test_direct_enhanced_refused_by_check(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_DE, ControlStage.CHECK, ControlStage.OPERATE)
    rec.answers[ControlStage.CHECK] = lambda a, v: refuse(AddCause.BLOCKED_BY_MODE)
    peer.create(SPC_DE)
    out = peer.operate(SPC_DE, True)
    assert not out.ok
    if peer.kind == "pyiec":
        assert out.add_cause == AddCause.BLOCKED_BY_MODE  # LastApplError with the negative response
        assert out.raw["last_error"] == IED_ERROR_ACCESS_DENIED
        assert out.raw["appl_error"]["ctl_num"] == rec.calls[0][1].ctl_num
        assert peer.c.terminations(1, 0.3) == []  # refused before execution: no CommandTermination
    assert rec.stages() == [(ControlStage.CHECK, False)]
    assert st_val(server, SPC_DE) is False


def test_check_returns_add_cause(server: IedServer) -> None:
    server.on_control(SPC_DE, check=lambda a, v: AddCause.BLOCKED_BY_HEALTH)
    p = PyiecPeer(server.port)
    try:
        p.create(SPC_DE)
        out = p.operate(SPC_DE, True)
    finally:
        p.close()
    assert not out.ok and out.add_cause == AddCause.BLOCKED_BY_HEALTH


def test_check_false_is_interlocking(server: IedServer) -> None:
    server.on_control(SPC_DE, check=lambda a, v: False)
    p = PyiecPeer(server.port)
    try:
        p.create(SPC_DE)
        out = p.operate(SPC_DE, True)
    finally:
        p.close()
    assert not out.ok and out.add_cause == AddCause.BLOCKED_BY_INTERLOCKING


def test_command_termination_minus(server: IedServer, peer: Peer) -> None:
    """The operate handler fails after the positive response: CommandTermination- with its AddCause."""
    rec = Recorder().install(server, SPC_DE, ControlStage.OPERATE)
    rec.answers[ControlStage.OPERATE] = lambda a, v: AddCause.BLOCKED_BY_PROCESS
    peer.create(SPC_DE)
    out = peer.operate(SPC_DE, True)
    assert not out.ok and out.add_cause == AddCause.BLOCKED_BY_PROCESS, out
    if peer.kind == "pyiec":
        assert out.raw["ctl_num"] == rec.calls[0][1].ctl_num
    assert st_val(server, SPC_DE) is False


def test_synchrocheck_refusal(server: IedServer, peer: Peer) -> None:
    """wait (dynamic test) returns False: CommandTermination- blocked-by-synchrocheck."""
    rec = Recorder().install(server, SPC_DE, ControlStage.WAIT, ControlStage.OPERATE)
    rec.answers[ControlStage.WAIT] = lambda a, v: not a.synchro_check
    peer.create(SPC_DE)
    peer.params(SPC_DE, synchro_check=True)
    out = peer.operate(SPC_DE, True)
    assert not out.ok and out.add_cause == AddCause.BLOCKED_BY_SYNCHROCHECK, out
    assert rec.stages() == [(ControlStage.WAIT, False)]
    assert st_val(server, SPC_DE) is False


def test_handler_timeout(scl_path: str) -> None:
    srv = IedServer.from_scl(scl_path, hook_timeout=0.3)
    release = threading.Event()

    def slow(a: ControlAction, v: Any) -> None:
        release.wait(2.0)

    try:
        srv.on_control(SPC_DE, check=slow)
        srv.start(0, "127.0.0.1")
        p = PyiecPeer(srv.port)
        try:
            p.create(SPC_DE)
            t0 = time.monotonic()
            out = p.operate(SPC_DE, True)
            took = time.monotonic() - t0
        finally:
            release.set()
            p.close()
        assert not out.ok and out.add_cause == AddCause.TIME_LIMIT_OVER, out
        assert took < 1.5
        assert st_val(srv, SPC_DE) is False
    finally:
        srv.close()


def test_time_activated_operate(server: IedServer) -> None:
    ran: list[tuple[float, ControlAction]] = []
    server.on_control(SPC_TM, operate=lambda a, v: ran.append((time.time(), a)))
    p = PyiecControlClient("127.0.0.1", server.port)
    try:
        assert p.create(SPC_TM)["created"]
        at_ms = int((time.time() + 0.8) * 1000)
        t0 = time.time()
        r = p.operate(SPC_TM, True, oper_time_ms=at_ms)
        answered = time.time() - t0
        assert r["ok"], r
        assert answered < 0.5  # answered at once, executed later
        terms = p.terminations(1, 5.0)
    finally:
        p.close()
    assert len(ran) == 1
    when, action = ran[0]
    assert when >= at_ms / 1000 - 0.05
    assert action.oper_time is not None and abs(action.oper_time.timestamp - at_ms / 1000) < 0.01
    assert len(terms) == 1 and terms[0]["add_cause"] == 0 and terms[0]["at"] >= when
    assert st_val(server, SPC_TM) is True


# ----------------------------------------------------------------------- sbo-enhanced


def test_breaker_sbo_enhanced(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, BREAKER, ControlStage.CHECK, ControlStage.OPERATE)
    peer.create(BREAKER)
    assert peer.select_with_value(BREAKER, True).ok
    stage, action, value = rec.calls[0]
    assert (stage, action.is_select, value) == (ControlStage.CHECK, True, True)
    assert action.ctl_model == ControlModel.SBO_ENHANCED and action.t is not None
    assert peer.operate(BREAKER, True).ok  # positive response and CommandTermination+
    assert st_val(server, BREAKER) == BitString.from_str("10")  # Dbpos on
    assert peer.select_with_value(BREAKER, False).ok
    assert peer.operate(BREAKER, False).ok
    assert st_val(server, BREAKER) == BitString.from_str("01")  # Dbpos off
    assert [(st, sel) for st, sel in rec.stages()] == [
        (ControlStage.CHECK, True), (ControlStage.CHECK, False), (ControlStage.OPERATE, False)] * 2


def test_sbo_enhanced_operate_without_select(server: IedServer, peer: Peer) -> None:
    rec = Recorder().install(server, SPC_SE, ControlStage.CHECK, ControlStage.OPERATE)
    peer.create(SPC_SE)
    out = peer.operate(SPC_SE, True)
    assert not out.ok
    if peer.kind == "pyiec":
        assert out.add_cause == AddCause.OBJECT_NOT_SELECTED
    assert rec.calls == []
    assert st_val(server, SPC_SE) is False


def test_sbo_enhanced_cancel(server: IedServer, peer: Peer) -> None:
    peer.create(SPC_SE)
    assert peer.select_with_value(SPC_SE, True).ok
    assert peer.cancel(SPC_SE, True).ok
    out = peer.operate(SPC_SE, True)
    assert not out.ok
    if peer.kind == "pyiec":
        assert out.add_cause == AddCause.OBJECT_NOT_SELECTED
    assert st_val(server, SPC_SE) is False


def test_sbo_enhanced_select_refused(server: IedServer, peer: Peer) -> None:
    server.on_control(SPC_SE, check=lambda a, v: refuse(AddCause.BLOCKED_BY_SWITCHING_HIERARCHY))
    peer.create(SPC_SE)
    out = peer.select_with_value(SPC_SE, True)
    assert not out.ok
    if peer.kind == "pyiec":
        assert out.add_cause == AddCause.BLOCKED_BY_SWITCHING_HIERARCHY
    assert not peer.operate(SPC_SE, True).ok


def test_sbo_enhanced_other_value_than_selected(server: IedServer, peer: Peer) -> None:
    peer.create(SPC_SE)
    assert peer.select_with_value(SPC_SE, True).ok
    out = peer.operate(SPC_SE, False)
    assert not out.ok
    if peer.kind == "pyiec":
        assert out.add_cause == AddCause.INCONSISTENT_PARAMETERS
    assert st_val(server, SPC_SE) is False


def test_sbo_enhanced_wrong_ctl_num(server: IedServer) -> None:
    p = PyiecPeer(server.port)
    try:
        p.create(SPC_SE)
        p.params(SPC_SE, ctl_num=10)
        assert p.select_with_value(SPC_SE, True).ok
        p.params(SPC_SE, ctl_num=20)
        out = p.operate(SPC_SE, True)
        assert not out.ok and out.add_cause == AddCause.INCONSISTENT_PARAMETERS, out
        assert out.raw["appl_error"]["ctl_num"] == 20  # the LastApplError echoes the Oper's ctlNum
    finally:
        p.close()
    assert st_val(server, SPC_SE) is False


def test_selected_by_another_client(server: IedServer) -> None:
    a = PyiecPeer(server.port)
    b = RustPeer(server.port)
    try:
        a.create(SPC_SE)
        b.create(SPC_SE)
        assert a.select_with_value(SPC_SE, True).ok
        assert not b.select_with_value(SPC_SE, True).ok
        assert not b.operate(SPC_SE, True).ok
        assert a.operate(SPC_SE, True).ok
    finally:
        a.close()
        b.close()
    assert st_val(server, SPC_SE) is True
