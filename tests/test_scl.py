"""py61850.scl: parsing, the instantiated model, summary and dict views."""

from __future__ import annotations

import datetime
import json
import pathlib
import pickle
import time

import pytest

from py61850.scl import (
    DataAttribute, DataObject, IedModel, SclDocument, SclError, SclErrorKind, load_scl, parse_scl,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "scl"
EXAMPLES = sorted((ROOT / "examples").glob("*.icd"))
OWN_GOOD = sorted(p for p in DATA.iterdir() if p.suffix in (".icd", ".cid", ".scd", ".iid")
                  and not p.name.startswith("broken_"))


# ----------------------------------------------------------------------------- every file parses

def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {"simple_io.icd", "protection_bay.icd"}


@pytest.mark.parametrize("path", EXAMPLES + OWN_GOOD, ids=lambda p: p.name)
def test_every_good_file_parses_and_instantiates(path: pathlib.Path) -> None:
    doc = load_scl(path)
    assert doc.ieds()
    doc.validate()
    for ied in doc.ieds():
        text = doc.summary(ied)
        assert text.startswith(f"IED name={ied} ")
        assert text == doc.summary(ied)  # deterministic within a document
    d = doc.to_dict()
    assert json.loads(json.dumps(d)) == d  # plain data only
    assert [i["name"] for i in d["ieds"]] == doc.ieds()


# ----------------------------------------------------------------------------- simple_io.icd by hand

@pytest.fixture(scope="module")
def simple() -> IedModel:
    return load_scl(ROOT / "examples" / "simple_io.icd").model()


def test_simple_io_layout(simple: IedModel) -> None:
    assert simple.name == "TEST"
    assert simple.access_point == "AP1"
    assert [ld.inst for ld in simple.logical_devices] == ["GenericIO", "LD0"]
    gio = simple.logical_device("GenericIO")
    assert gio.domain_name == "TESTGenericIO"
    assert gio.ld_name is None
    assert simple.logical_device("TESTGenericIO") is gio
    assert gio.logical_nodes[0].name == "LLN0"
    ggio = gio.logical_node("GGIO1")
    assert (ggio.ln_class, ggio.inst, ggio.prefix) == ("GGIO", "1", "")
    names = [d.name for d in ggio.data_objects]
    for n in ("Ind1", "Ind2", "Ind3", "Ind4", "AnIn1", "SPCSO1", "IntSet1", "SetPt1"):
        assert n in names
    assert names.index("Ind1") < names.index("Ind2") < names.index("AnIn1")


def test_simple_io_attributes(simple: IedModel) -> None:
    ind1 = simple.find("GenericIO/GGIO1.Ind1")
    assert isinstance(ind1, DataObject) and ind1.cdc == "SPS"
    st = ind1.child("stVal")
    assert isinstance(st, DataAttribute)
    assert (st.fc, st.btype, st.dchg, st.qchg) == ("ST", "BOOLEAN", True, False)
    assert st.value is True
    q = ind1.child("q")
    assert isinstance(q, DataAttribute) and (q.fc, q.btype, q.qchg) == ("ST", "Quality", True)
    # order of DAs = template order = MMS component order
    assert [c.name for c in ind1.children][:3] == ["stVal", "q", "t"]

    mag = simple.find("GenericIO/GGIO1.AnIn1.mag")
    assert isinstance(mag, DataAttribute)
    assert (mag.fc, mag.btype, mag.is_struct) == ("MX", "Struct", True)
    f = mag.child("f")
    assert (f.fc, f.btype, f.value) == ("MX", "FLOAT32", 12.5)   # BDA inherits the FC
    assert f.dchg  # ... and the trigger options

    ctl = simple.find("GenericIO/GGIO1.SPCSO1.ctlModel")
    assert isinstance(ctl, DataAttribute)
    assert (ctl.fc, ctl.btype) == ("CF", "Enum")
    assert (ctl.value, ctl.value_text) == (1, "direct-with-normal-security")
    oper = simple.find("GenericIO/GGIO1.SPCSO1.Oper")
    assert isinstance(oper, DataAttribute) and oper.fc == "CO"
    assert oper.child("ctlVal").btype == "BOOLEAN" and oper.child("ctlVal").fc == "CO"

    assert simple.find("GenericIO/GGIO1.IntSet1.setVal").value == 42
    setmag = simple.find("GenericIO/GGIO1.SetPt1.setMag.f")
    assert (setmag.fc, setmag.value) == ("SP", 7.75)
    beh = simple.find("GenericIO/LLN0.Beh.stVal")
    assert (beh.btype, beh.value, beh.value_text) == ("Enum", 1, "on")
    assert simple.enum_types[beh.type][1] == "on"


def test_simple_io_datasets_and_rcbs(simple: IedModel) -> None:
    lln0 = simple.logical_device("GenericIO").logical_node("LLN0")
    events = lln0.data_set("Events")
    m = events.members[0]
    assert (m.ld_inst, m.ln_name, m.do_name, m.da_name, m.fc) == ("GenericIO", "GGIO1", "Ind1", "stVal", "ST")
    assert m.mms_domain == "TESTGenericIO"
    assert m.mms_item == "GGIO1$ST$Ind1$stVal"
    meas = lln0.data_set("Measurements").members[0]
    assert meas.mms_item == "GGIO1$MX$AnIn1$mag$f"
    assert meas.reference == "TESTGenericIO/GGIO1.AnIn1.mag.f"
    rcbs = {r.name: r for r in lln0.report_controls}
    urcb = rcbs["urcbEvents"]
    assert urcb.instance_names == ["urcbEvents01", "urcbEvents02"]
    assert not urcb.buffered and urcb.fc == "RP"
    assert urcb.dataset == "Events" and urcb.dataset_ref == "TESTGenericIO/LLN0$Events"
    assert (urcb.rpt_id, urcb.conf_rev, urcb.buf_time, urcb.intg_pd) == ("Events", 1, 50, 1000)
    assert urcb.trg_ops.names() == ["dchg", "qchg", "period", "gi"]
    assert urcb.trg_ops.bit_mask() == 0b111110 - 0b001000  # dchg(1) qchg(2) period(4) gi(5)
    assert urcb.opt_fields.seq_num and urcb.opt_fields.data_ref and not urcb.opt_fields.entry_id
    brcb = rcbs["brcbMeas"]
    assert brcb.buffered and brcb.fc == "BR"
    assert brcb.instance_names == ["brcbMeas01"]  # max 1 still gets the 01 suffix (indexed)
    assert simple.ip == "127.0.0.1" and simple.port is None


# ----------------------------------------------------------------------------- own files

@pytest.fixture(scope="module")
def full_doc() -> SclDocument:
    return load_scl(DATA / "ed2_full.cid")


@pytest.fixture(scope="module")
def full(full_doc: SclDocument) -> IedModel:
    return full_doc.model()


def test_ed2_document(full_doc: SclDocument) -> None:
    assert full_doc.edition == "2.1"
    assert (full_doc.version, full_doc.revision, full_doc.release) == ("2007", "B", 4)
    assert full_doc.ieds() == ["FULL"]
    assert full_doc.access_points("FULL") == ["S1", "S2"]
    assert full_doc.header is not None and full_doc.header["tool_id"] == "hand"


def test_ldname_domain(full: IedModel) -> None:
    prot = full.logical_device("PROT")
    assert prot.ld_name == "FULL_Protection" and prot.domain_name == "FULL_Protection"
    assert full.logical_device("CTRL").domain_name == "FULLCTRL"


def test_rpt_enabled_max_3(full: IedModel) -> None:
    lln0 = full.logical_device("PROT").logical_node("LLN0")
    rcb = {r.name: r for r in lln0.report_controls}
    b = rcb["brcbTrips"]
    assert b.max_instances == 3
    assert b.instance_names == ["brcbTrips01", "brcbTrips02", "brcbTrips03"]
    assert b.buffered and (b.conf_rev, b.buf_time, b.intg_pd) == (7, 25, 5000)
    assert b.trg_ops.names() == ["dchg", "qchg", "period"]  # gi="false"
    assert b.opt_fields.names() == ["seq_num", "time_stamp", "reason_code", "data_set",
                                    "buf_ovfl", "entry_id", "config_ref"]
    assert b.client_lns == ["HMI/LD0/IHMI1"]
    assert b.dataset_ref == "FULL_Protection/LLN0$Trips"
    single = rcb["urcbSingle"]
    assert single.instance_names == ["urcbSingle"]  # indexed="false"
    assert single.rpt_id is None
    assert single.trg_ops.names() == ["dupd", "gi"]  # gi defaults to true


def test_sgroup_values(full: IedModel) -> None:
    lln0 = full.logical_device("PROT").logical_node("LLN0")
    assert lln0.setting_control is not None
    assert (lln0.setting_control.num_of_sgs, lln0.setting_control.act_sg) == (3, 2)
    f = full.find("PROT/PTOC1.StrVal.setMag.f")
    assert isinstance(f, DataAttribute)
    assert f.fc == "SG"
    assert f.sgroup_values == {1: 100.0, 2: 200.5, 3: 300.0}
    assert f.value == 200.5  # the active group (actSG=2)
    sv = full.find("PROT/PTOC1.OpDlTmms.setVal")
    assert sv.sgroup_values == {1: 10, 3: 30}
    assert sv.value == 10  # group 2 has no value: the lowest group's value


def test_values_and_overrides(full: IedModel) -> None:
    # DAI overrides the template Val (Dbpos "on" = 2, template said "off")
    pos = full.find("PROT/Q0XCBR1.Pos.stVal")
    assert (pos.btype, pos.value, pos.value_text, pos.s_addr) == ("Dbpos", 2, "on", "io:pos")
    assert full.find("PROT/Q0XCBR1.Pos").desc == "breaker position"
    assert full.find("PROT/Q0XCBR1.Pos.ctlModel").value == 4
    # template value kept where no DAI
    assert full.find("CTRL/LLN0.Mod.ctlModel").value == 1
    assert full.find("CTRL/LLN0.Mod.ctlModel").value_kind == "RO"
    assert full.find("PROT/LLN0.Mod.ctlModel").value == 0  # DOI in LN0 overrides
    # nested SDO / struct path
    assert full.find("PROT/MMXU1.A.phsB.cVal.mag.f").value == 1.25
    assert full.find("PROT/MMXU1.A.phsA.cVal.mag.f").value is None
    assert full.find("PROT/MMXU1.A.phsA.cVal.mag.f").fc == "MX"
    assert full.find("PROT/MMXU1.A.d").fc == "DC"
    a = full.find("PROT/MMXU1.A")
    assert isinstance(a, DataObject)
    assert [c.name for c in a.children] == ["phsA", "phsB", "d"]
    assert isinstance(a.children[0], DataObject) and a.children[0].cdc == "CMV"
    assert a.fcs() == ["DC", "MX"]
    # arrays: template Vals fill the first elements, DAI ix sets one element
    vals = full.find("PROT/MMXU1.Arr.vals")
    assert vals.count == 4 and vals.value == [1, -7, None, None]
    assert full.find("PROT/MMXU1.Arr.id").value == b"id-7"  # Octet64 Val: the text, UTF-8
    t = full.find("PROT/PTOC1.Op.t")
    assert t.value == datetime.datetime(2024, 1, 2, 2, 4, 5, 500000, tzinfo=datetime.timezone.utc)
    assert full.find("CTRL/CSWI1.TapChg.ctlVal").value == 2  # Tcmd higher
    unit = full.find("PROT/PTOC1.StrVal.units.SIUnit")
    assert (unit.fc, unit.value, unit.value_text) == ("CF", 5, "A")


def test_datasets_fcd_sdo_and_other_ld(full: IedModel) -> None:
    ds = full.logical_device("PROT").logical_node("LLN0").data_set("Trips")
    items = [(m.mms_domain, m.mms_item) for m in ds.members]
    assert items == [
        ("FULL_Protection", "PTOC1$ST$Op"),
        ("FULL_Protection", "Q0XCBR1$ST$Pos$stVal"),
        ("FULL_Protection", "MMXU1$MX$A$phsA$cVal$mag$f"),
        ("FULLCTRL", "LLN0$ST$Mod$stVal"),
        ("FULL_Protection", "MMXU1$ST$Arr$vals"),
    ]
    assert ds.members[0].da_name is None
    assert ds.members[4].ix == 2


def test_other_control_blocks(full: IedModel) -> None:
    lln0 = full.logical_device("PROT").logical_node("LLN0")
    (lcb,) = lln0.log_controls
    assert (lcb.log_name, lcb.log_ref, lcb.reason_code, lcb.log_ena) == (
        "TripLog", "FULL_Protection/LLN0$TripLog", False, True)
    assert lcb.trg_ops.names() == ["dchg", "qchg", "gi"]
    (gcb,) = lln0.gse_controls
    assert (gcb.app_id, gcb.conf_rev, gcb.type, gcb.ied_names) == ("FULL_GOOSE", 2, "GOOSE", ["SUB1", "SUB2"])
    assert gcb.address["MAC-Address"] == "01-0C-CD-01-00-01" and gcb.address["APPID"] == "1001"
    assert (gcb.min_time, gcb.max_time) == (4, 1000)
    assert gcb.dataset_ref == "FULL_Protection/LLN0$Goose"
    (svc,) = lln0.sv_controls
    assert (svc.smv_id, svc.smp_rate, svc.nof_asdu, svc.multicast) == ("FULL_SV", 80, 1, True)
    assert svc.opts == {"refresh_time": True, "sample_rate": True}
    assert svc.address["APPID"] == "4001"
    assert lln0.logs == ["TripLog"]


def test_communication(full_doc: SclDocument, full: IedModel) -> None:
    comm = full_doc.communication()
    (sn,) = comm.sub_networks
    assert (sn.name, sn.type, sn.bit_rate) == ("W1", "8-MMS", "100 Mb/s")
    cap = comm.connected_ap("FULL", "S1")
    assert cap is not None
    assert (cap.ip, cap.ip_subnet, cap.ip_gateway, cap.port) == ("10.0.0.5", "255.255.255.0", "10.0.0.1", 10102)
    assert [(g.ld_inst, g.cb_name) for g in cap.gse] == [("PROT", "gcb1")]
    assert (full.ip, full.port) == ("10.0.0.5", 10102)


def test_access_point_selection(full_doc: SclDocument) -> None:
    via = full_doc.model("FULL", "S2")  # ServerAt S1
    assert via.access_point == "S2"
    assert [ld.inst for ld in via.logical_devices] == ["PROT", "CTRL"]
    with pytest.raises(SclError) as ei:
        full_doc.model("FULL", "S9")
    assert ei.value.kind == SclErrorKind.UNKNOWN_ACCESS_POINT
    with pytest.raises(SclError) as ei:
        full_doc.model("NOPE")
    assert ei.value.kind == "UnknownIed"


def test_models_are_independent(full_doc: SclDocument) -> None:
    a = full_doc.model()
    b = full_doc.model()
    assert a == b and a is not b
    a.find("PROT/Q0XCBR1.Pos.stVal").value = 1
    assert b.find("PROT/Q0XCBR1.Pos.stVal").value == 2


def test_ed1_file() -> None:
    doc = load_scl(DATA / "ed1_relay.icd")
    assert doc.edition == "1" and doc.version is None
    m = doc.model()
    assert m.logical_device("LD1").domain_name == "REL1LD1"
    assert m.find("LD1/GGIO1.Alm1.stVal").value is True  # xs:boolean "1"
    assert m.find("LD1/GGIO1.Temp.mag.i").value == -40
    assert m.find("LD1/GGIO1.Temp.d").value == "temperature"
    rcb = m.logical_device("LD1").logical_node("LLN0").report_controls[0]
    assert rcb.instance_names == ["rcbStatus01", "rcbStatus02"]
    # Latin-1 document decoded correctly
    ln = doc.to_dict()["ieds"][0]["access_points"][0]["server"]["logical_devices"][0]["logical_nodes"][1]
    assert ln["desc"] == "40\u00b0C alarms"


def test_scd_with_two_ieds() -> None:
    doc = load_scl(DATA / "two_ieds.scd")
    assert doc.ieds() == ["IED_A", "IED_B"]
    assert doc.edition == "2"
    with pytest.raises(SclError) as ei:
        doc.model()
    assert ei.value.kind == SclErrorKind.AMBIGUOUS_IED
    a = doc.model("IED_A")
    b = doc.model(ied_name="IED_B")
    assert a.logical_devices[0].domain_name == "IED_ALD0"
    assert b.logical_devices[0].domain_name == "IED_BLD0"
    assert (a.ip, a.port, b.ip, b.port) == ("192.0.2.10", 102, "192.0.2.11", 8102)
    assert a.find("LD0/XCBR1.Pos.stVal").value == 0       # template: intermediate
    assert b.find("LD0/XCBR1.Pos.stVal").value == 2       # DAI: on
    assert b.find("LD0/XCBR2.Pos.stVal").value == 0
    assert doc.summary("IED_A").splitlines()[0].startswith("IED name=IED_A ")
    assert "IED_B" not in doc.summary("IED_A")


# ----------------------------------------------------------------------------- summary

def test_summary_is_canonical(full_doc: SclDocument) -> None:
    text = full_doc.summary("FULL")
    again = load_scl(DATA / "ed2_full.cid").summary()
    assert text == again
    # same document, different formatting and attribute order -> same summary
    raw = (DATA / "ed2_full.cid").read_text(encoding="utf-8")
    reformatted = raw.replace('<DataSet name="Goose">', '<DataSet\n   name="Goose"   >').replace(
        '<LN lnClass="MMXU" inst="1" lnType="MMXU_T">', '<LN lnType="MMXU_T" inst="1" lnClass="MMXU">')
    assert reformatted != raw
    assert parse_scl(reformatted).summary() == text
    lines = text.splitlines()
    assert lines[0] == 'IED name=FULL manufacturer="py61850" type="Full" config_version="2.1" aps=2'
    assert "  AP name=S1 server=yes ip=\"10.0.0.5\" port=10102 lds=2" in lines
    assert "  AP name=S2 server=at:S1" in lines
    assert any(l.strip().startswith("RCB name=brcbTrips buffered=true "
                                    "instances=brcbTrips01,brcbTrips02,brcbTrips03") for l in lines)
    assert "            BDA name=f fc=SG btype=FLOAT32 trg=- value=200.5 sg={1:100.0,2:200.5,3:300.0}" in lines
    assert "          FCDA FULL_Protection/MMXU1$MX$A$phsA$cVal$mag$f" in lines
    # a change in the document shows up
    changed = raw.replace("<Val>1.25</Val>", "<Val>1.5</Val>")
    diff = set(parse_scl(changed).summary().splitlines()) ^ set(lines)
    assert diff == {"                BDA name=f fc=MX btype=FLOAT32 trg=dchg value=1.25",
                    "                BDA name=f fc=MX btype=FLOAT32 trg=dchg value=1.5"}


def test_model_summary_matches_document_summary(full: IedModel, full_doc: SclDocument) -> None:
    body = full.summary().splitlines()[2:]
    doc_lines = full_doc.summary().splitlines()
    start = doc_lines.index(body[0])
    assert doc_lines[start:start + len(body)] == body


# ----------------------------------------------------------------------------- dict views

def test_document_to_dict(full_doc: SclDocument) -> None:
    d = full_doc.to_dict()
    assert d["edition"] == "2.1"
    ied = d["ieds"][0]
    assert (ied["name"], ied["manufacturer"]) == ("FULL", "py61850")
    ld = ied["access_points"][0]["server"]["logical_devices"][0]
    assert ld["inst"] == "PROT" and ld["ld_name"] == "FULL_Protection"
    assert [ln["ln_class"] for ln in ld["logical_nodes"]] == ["LLN0", "PTOC", "XCBR", "MMXU"]
    ln_type = d["data_type_templates"]["ln_node_types"][ld["logical_nodes"][1]["ln_type"]]
    assert [do["name"] for do in ln_type["dos"]] == ["Op", "StrVal", "OpDlTmms"]
    do_type = d["data_type_templates"]["do_types"][ln_type["dos"][1]["type"]]
    assert do_type["cdc"] == "ASG"
    assert [(c["kind"], c["name"], c["fc"]) for c in do_type["children"]] == [
        ("DA", "setMag", "SG"), ("DA", "units", "CF")]
    assert d["data_type_templates"]["da_types"]["Vector_T"]["bdas"][0]["type"] == "AV_T"
    assert d["data_type_templates"]["enum_types"]["SIUnit_E"]["values"] == [
        {"ord": 5, "text": "A"}, {"ord": 29, "text": "V"}]
    wye = d["data_type_templates"]["do_types"]["WYE_T"]["children"]
    assert [(c["kind"], c["name"]) for c in wye] == [("SDO", "phsA"), ("SDO", "phsB"), ("DA", "d")]
    rc = ld["logical_nodes"][0]["report_controls"][0]
    assert rc["rpt_enabled"]["max"] == 3 and rc["trg_ops"]["gi"] is False
    dai = ld["logical_nodes"][1]["dois"][1]["children"][0]["children"][0]
    assert dai["kind"] == "DAI" and dai["values"][1] == {"s_group": 2, "text": "200.5"}
    cap = d["communication"]["sub_networks"][0]["connected_aps"][0]
    assert cap["address"]["MMS-Port"] == "10102"
    # a copy: mutating it does not change the document
    ied["name"] = "X"
    assert full_doc.ieds() == ["FULL"]
    assert json.loads(json.dumps(full_doc.to_dict())) == full_doc.to_dict()


def test_model_dict_round_trip(full: IedModel) -> None:
    d = full.to_dict()
    back = IedModel.from_dict(d)
    assert back == full
    assert back.to_dict() == d
    # survives JSON (bytes are the only non-JSON value here: hex them out and back)
    arr = d["logical_devices"][0]["logical_nodes"][3]["data_objects"][1]["children"][1]
    assert arr["name"] == "id" and arr["value"] == b"id-7"
    arr["value"] = "id-7"  # the SCL literal form is accepted by from_dict
    t = d["logical_devices"][0]["logical_nodes"][1]["data_objects"][0]["children"][2]
    assert t["name"] == "t" and t["value"] == datetime.datetime(2024, 1, 2, 2, 4, 5, 500000,
                                                                tzinfo=datetime.timezone.utc)
    t["value"] = "2024-01-02T02:04:05.5Z"
    via_json = IedModel.from_dict(json.loads(json.dumps(d)))
    assert via_json == full
    # sgroup keys come back from JSON as strings and are converted
    assert via_json.find("PROT/PTOC1.StrVal.setMag.f").sgroup_values == {1: 100.0, 2: 200.5, 3: 300.0}


def test_error_pickles() -> None:
    e = SclError("m", kind=SclErrorKind.INVALID_VALUE, file="f", line=3, column=4,
                 element_path="SCL/IED", attribute="a")
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.kind, e2.file, e2.line, e2.column, e2.element_path, e2.attribute, e2.message) == (
        "InvalidValue", "f", 3, 4, "SCL/IED", "a", "m")
    assert str(e2) == str(e) == "f:3:4: InvalidValue: m (at SCL/IED @a)"


# ----------------------------------------------------------------------------- performance

def _big_scd(n_ieds: int, n_lns: int) -> str:
    tpl = (DATA / "base_valid.icd").read_text(encoding="utf-8")
    head, rest = tpl.split("  <IED ", 1)
    ied_block, tail = rest.split("  </IED>\n", 1)
    ied_block = "  <IED " + ied_block + "  </IED>\n"
    extra = "".join(f'          <LN lnClass="GGIO" inst="{i}" lnType="GGIO_T">\n'
                    f'            <DOI name="Ind1"><DAI name="stVal"><Val>true</Val></DAI></DOI>\n'
                    f'          </LN>\n' for i in range(2, n_lns + 2))
    ied_block = ied_block.replace("        </LDevice>", extra + "        </LDevice>")
    blocks = "".join(ied_block.replace('name="TEST"', f'name="IED{k}"') for k in range(n_ieds))
    return head + blocks + tail


def test_large_scd_parses_quickly() -> None:
    text = _big_scd(60, 560)
    assert len(text) > 5_000_000
    t0 = time.perf_counter()
    doc = parse_scl(text, filename="big.scd")
    t_parse = time.perf_counter() - t0
    assert len(doc.ieds()) == 60
    t0 = time.perf_counter()
    m = doc.model("IED7")
    t_model = time.perf_counter() - t0
    assert len(m.logical_devices[0].logical_nodes) == 562
    # generous bounds for a shared 2-core machine; typical: well under a second
    assert t_parse < 4.0, t_parse
    assert t_model < 2.0, t_model


def test_template_sgroup_values() -> None:
    base = (DATA / "base_valid.icd").read_text(encoding="utf-8")
    text = base.replace('<DA name="setVal" bType="FLOAT32" fc="SG"/>',
                        '<DA name="setVal" bType="FLOAT32" fc="SG">'
                        '<Val sGroup="1">1</Val><Val sGroup="3">3</Val></DA>').replace(
        '<DOI name="Set1"><DAI name="setVal"><Val sGroup="1">1.5</Val><Val sGroup="2">2.5</Val></DAI></DOI>', "")
    m = parse_scl(text).model()
    da = m.find("LD0/GGIO1.Set1.setVal")
    assert da.sgroup_values == {1: 1.0, 3: 3.0} and da.value == 1.0
    act3 = parse_scl(text.replace('actSG="1"', 'actSG="3"')).model()
    assert act3.find("LD0/GGIO1.Set1.setVal").value == 3.0
    with pytest.raises(SclError) as ei:
        parse_scl(text.replace('numOfSGs="3"', 'numOfSGs="2"'), filename="t.icd").model()
    assert ei.value.kind == "InvalidValue" and ei.value.attribute == "sGroup"
    assert ei.value.element_path.startswith("SCL/DataTypeTemplates/DOType")
