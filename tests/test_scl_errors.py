"""py61850.scl: every problem raises SclError with the right kind, line, column and path."""

from __future__ import annotations

import logging
import pathlib
import re
from typing import Any

import pytest
from lxml import etree

from py61850.scl import IedModel, SclError, SclErrorKind, load_scl, parse_scl

DATA = pathlib.Path(__file__).resolve().parent / "data" / "scl"
NS = "http://www.iec.ch/61850/2003/SCL"
MARK = "<!-- ERROR -->"

# file -> (stage, kind, attribute, tag of the offending element)
CASES: dict[str, tuple[str, str, str | None, str]] = {
    "broken_xml_syntax.icd": ("load", "XmlSyntax", None, ""),
    "broken_unknown_lntype.icd": ("load", "UnresolvedTypeReference", "lnType", "LN"),
    "broken_missing_dotype.icd": ("load", "MissingTemplate", "type", "DO"),
    "broken_missing_datype.icd": ("load", "MissingTemplate", "type", "DA"),
    "broken_missing_enumtype.icd": ("load", "MissingTemplate", "type", "DA"),
    "broken_duplicate_ln.icd": ("load", "DuplicateName", "inst", "LN"),
    "broken_duplicate_do.icd": ("load", "DuplicateName", "name", "DO"),
    "broken_duplicate_ldevice.icd": ("load", "DuplicateName", "inst", "LDevice"),
    "broken_duplicate_type_id.icd": ("load", "DuplicateName", "id", "DOType"),
    "broken_cyclic_datype.icd": ("load", "CyclicTypeReference", "type", "BDA"),
    "broken_unknown_btype.icd": ("load", "InvalidAttribute", "bType", "DA"),
    "broken_bad_count.icd": ("load", "InvalidAttribute", "count", "BDA"),
    "broken_missing_ln0.icd": ("load", "MissingElement", None, "LDevice"),
    "broken_val_enum.icd": ("load", "InvalidValue", None, "Val"),
    "broken_val_int_range.icd": ("model", "InvalidValue", None, "Val"),
    "broken_val_bool.icd": ("model", "InvalidValue", None, "Val"),
    "broken_val_float.icd": ("model", "InvalidValue", None, "Val"),
    "broken_bad_sgroup.icd": ("model", "InvalidValue", "sGroup", "Val"),
    "broken_unresolved_fcda.icd": ("model", "UnresolvedReference", "doName", "FCDA"),
    "broken_fcda_wrong_fc.icd": ("model", "UnresolvedReference", "fc", "FCDA"),
    "broken_unknown_datset.icd": ("model", "UnresolvedReference", "datSet", "ReportControl"),
    "broken_unknown_doi.icd": ("model", "UnresolvedReference", "name", "DOI"),
    "broken_unknown_dai.icd": ("model", "UnresolvedReference", "name", "DAI"),
}


def test_every_broken_file_has_a_case() -> None:
    assert sorted(p.name for p in DATA.glob("broken_*")) == sorted(CASES)


def _marked_line(path: pathlib.Path) -> tuple[int, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    (n,) = [i + 1 for i, line in enumerate(lines) if MARK in line]
    return n, lines[n - 1]


def _select(root: Any, element_path: str) -> list[Any]:
    # "SCL/IED[@name="X"]/..." -> "/s:SCL/s:IED[@name="X"]/..." (values contain no '/')
    xp = "/" + "/".join("s:" + seg for seg in element_path.split("/"))
    return root.xpath(xp, namespaces={"s": NS})


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_file(name: str) -> None:
    stage, kind, attribute, tag = CASES[name]
    path = DATA / name
    line, text = _marked_line(path)
    if stage == "load":
        with pytest.raises(SclError) as ei:
            load_scl(path)
    else:
        doc = load_scl(path)  # the document itself is fine ...
        with pytest.raises(SclError) as ei:
            doc.model()     # ... the instance is not
        with pytest.raises(SclError):
            doc.summary()
        with pytest.raises(SclError):
            doc.validate()
    e = ei.value
    assert e.kind == kind
    assert isinstance(e.kind, SclErrorKind)
    assert e.file == str(path)
    assert e.line == line, str(e)
    assert e.attribute == attribute
    assert e.message and e.message in str(e)
    assert str(e).startswith(f"{path}:{line}:{e.column}: {kind}: ")
    if kind == "XmlSyntax":
        assert e.column is not None and 1 <= e.column <= len(text) + 1
        return
    # the column is the '<' of the offending start tag
    assert e.column == text.index("<" + tag) + 1, str(e)
    # the element path selects exactly the offending element
    assert e.element_path is not None and e.element_path.startswith("SCL/")
    root = etree.parse(str(path)).getroot()
    found = _select(root, e.element_path)
    assert len(found) == 1, e.element_path
    assert etree.QName(found[0]).localname == tag
    assert found[0].sourceline >= line  # lxml reports where the start tag ends


def test_error_path_for_ln() -> None:
    with pytest.raises(SclError) as ei:
        load_scl(DATA / "broken_unknown_lntype.icd")
    assert ei.value.element_path == (
        'SCL/IED[@name="TEST"]/AccessPoint[@name="AP1"]/Server/LDevice[@inst="LD0"]'
        '/LN[@lnClass="GGIO"][@inst="1"]')


def test_duplicate_path_is_positional() -> None:
    with pytest.raises(SclError) as ei:
        load_scl(DATA / "broken_duplicate_ln.icd")
    assert ei.value.element_path.endswith('/LN[@lnClass="GGIO"][@inst="1"][2]')
    assert "defined twice" in ei.value.message


# ----------------------------------------------------------------------------- other failures

BASE = (DATA / "base_valid.icd").read_text(encoding="utf-8")


def test_base_is_valid() -> None:
    m = parse_scl(BASE).model()
    assert m.find("LD0/GGIO1.Set1.setVal").sgroup_values == {1: 1.5, 2: 2.5}


def test_not_scl() -> None:
    with pytest.raises(SclError) as ei:
        parse_scl('<?xml version="1.0"?>\n<html><body/></html>', filename="page.html")
    assert ei.value.kind == "NotScl" and ei.value.file == "page.html" and ei.value.line == 2
    with pytest.raises(SclError) as ei:
        parse_scl('<SCL xmlns="urn:other"/>')
    assert ei.value.kind == "NotScl"


def test_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(SclError) as ei:
        load_scl(tmp_path / "nope.icd")
    assert ei.value.kind == "IoError" and ei.value.file == str(tmp_path / "nope.icd")


@pytest.mark.parametrize("text", ["", "   ", "<SCL", "<SCL></scl>"])
def test_syntax_errors_in_memory(text: str) -> None:
    with pytest.raises(SclError) as ei:
        parse_scl(text)
    assert ei.value.kind == "XmlSyntax" and ei.value.file == "<string>"


def test_no_external_entities(tmp_path: pathlib.Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    doc = BASE.replace('<?xml version="1.0" encoding="UTF-8"?>',
                       f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE SCL [<!ENTITY x SYSTEM "file://{secret}">]>')
    doc = doc.replace('<DAI name="stVal"><Val>true</Val></DAI>',
                      '<DAI name="d"><Val>&x;</Val></DAI>', 1).replace(
        '<DA name="q" bType="Quality" fc="ST" qchg="true"/>',
        '<DA name="q" bType="Quality" fc="ST" qchg="true"/><DA name="d" bType="VisString255" fc="DC"/>', 1)
    try:
        parsed = parse_scl(doc)
    except SclError as exc:  # refusing the entity is fine too
        assert "TOPSECRET" not in str(exc)
        return
    assert "TOPSECRET" not in repr(parsed.to_dict())
    assert "TOPSECRET" not in parsed.summary()


def test_str_with_foreign_encoding_declaration() -> None:
    text = BASE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        'manufacturer="py61850"', 'manufacturer="p\u00e9"')
    assert parse_scl(text).model().manufacturer == "p\u00e9"
    assert parse_scl(text.encode("latin-1")).model().manufacturer == "p\u00e9"


def test_unknown_and_ambiguous_selection() -> None:
    doc = parse_scl(BASE)
    for kwargs, kind in (({"ied_name": "NOPE"}, "UnknownIed"),
                         ({"access_point": "AP9"}, "UnknownAccessPoint")):
        with pytest.raises(SclError) as ei:
            doc.model(**kwargs)
        assert ei.value.kind == kind
    two_aps = BASE.replace("  </IED>", '''    <AccessPoint name="AP2">
      <Server><Authentication/>
        <LDevice inst="LDX"><LN0 lnClass="LLN0" inst="" lnType="LLN0_T"/></LDevice>
      </Server>
    </AccessPoint>
    <AccessPoint name="AP3"/>
  </IED>''')
    doc = parse_scl(two_aps, filename="two.icd")
    with pytest.raises(SclError) as ei:
        doc.model()
    assert ei.value.kind == "AmbiguousAccessPoint" and ei.value.line == 5
    assert [ld.inst for ld in doc.model(access_point="AP2").logical_devices] == ["LDX"]
    with pytest.raises(SclError) as ei:
        doc.model(access_point="AP3")
    assert ei.value.kind == "NoServer"
    with pytest.raises(SclError) as ei:
        parse_scl(BASE.replace('<IED name="TEST" manufacturer="py61850">',
                               '<IED name="TEST"/><IED name="TEST" manufacturer="py61850">'))
    assert ei.value.kind == "DuplicateName" and ei.value.attribute == "name"


def _variant(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize("old,new,kind,attr", [
    ('<RptEnabled max="1"/>', '<RptEnabled max="100"/>', "InvalidAttribute", "max"),
    ('rptID="r" confRev="1">', 'rptID="r" confRev="1" indexed="false">'
     '<RptEnabled max="2"/>', "InvalidAttribute", "indexed"),
    ('<SettingControl numOfSGs="3" actSG="1"/>', '<SettingControl numOfSGs="3" actSG="4"/>',
     "InvalidAttribute", "actSG"),
    ('<SettingControl numOfSGs="3" actSG="1"/>', '<SettingControl actSG="1"/>', "MissingAttribute", "numOfSGs"),
    ('<DA name="q" bType="Quality" fc="ST" qchg="true"/>', '<DA name="q" bType="Quality" fc="XX"/>',
     "InvalidAttribute", "fc"),
    ('<DA name="q" bType="Quality" fc="ST" qchg="true"/>', '<DA name="q" bType="Quality"/>',
     "MissingAttribute", "fc"),
    ('<DA name="q" bType="Quality" fc="ST" qchg="true"/>', '<DA name="q" bType="Quality" fc="ST" qchg="yes"/>',
     "InvalidAttribute", "qchg"),
    ('<EnumVal ord="5">off</EnumVal>', '<EnumVal ord="1">off</EnumVal>', "DuplicateName", "ord"),
    ('<DataSet name="Events">', '<DataSet name="Events"></DataSet><DataSet name="Events">',
     "DuplicateName", "name"),
    ('<BDA name="f" bType="FLOAT32"/>', '<BDA name="f" bType="Struct"/>', "MissingAttribute", "type"),
    ('<BDA name="f" bType="FLOAT32"/>', '<BDA name="f" bType="FLOAT32"><Val>1</Val><Val>2</Val></BDA>',
     "InvalidValue", None),
    ('<DA name="mag" bType="Struct" type="AV_T" fc="MX" dchg="true"/>',
     '<DA name="mag" bType="Struct" type="AV_T" fc="MX" dchg="true"><Val>1</Val></DA>', "InvalidValue", None),
    ('<DA name="mag" bType="Struct" type="AV_T" fc="MX" dchg="true"/>',
     '<DA name="mag" bType="Struct" type="Beh_E" fc="MX" dchg="true"/>', "MissingTemplate", "type"),
])
def test_load_errors(old: str, new: str, kind: str, attr: str | None) -> None:
    text = _variant(old, new)
    with pytest.raises(SclError) as ei:
        parse_scl(text)
    assert ei.value.kind == kind, str(ei.value)
    assert ei.value.attribute == attr
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if new in l)
    assert ei.value.line == line, str(ei.value)


@pytest.mark.parametrize("old,new,kind", [
    ('<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val></DAI></DOI>',
     '<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val><Val>6</Val></DAI></DOI>', "InvalidValue"),
    ('<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val></DAI></DOI>',
     '<DOI name="Cnt1"><DAI name="stVal" ix="0"><Val>5</Val></DAI></DOI>', "InvalidAttribute"),
    ('<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val></DAI></DOI>',
     '<DOI name="Cnt1"><SDI name="stVal"><DAI name="x"/></SDI></DOI>', "UnresolvedReference"),
    ('<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val></DAI></DOI>',
     '<DOI name="Cnt1"><DAI name="stVal"><Val sGroup="1">5</Val><Val sGroup="1">6</Val></DAI></DOI>',
     "DuplicateName"),
    ('<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val></DAI></DOI>',
     '<DOI name="Cnt1"/><DOI name="Cnt1"/>', "DuplicateName"),
    ('<DOI name="Cnt1"><DAI name="stVal"><Val>5</Val></DAI></DOI>',
     '<DOI name="AnIn1"><DAI name="mag"><Val>5</Val></DAI></DOI>', "InvalidValue"),
    ('<FCDA ldInst="LD0" lnClass="GGIO"', '<FCDA ldInst="LD7" lnClass="GGIO"', "UnresolvedReference"),
    ('<FCDA ldInst="LD0" lnClass="GGIO" lnInst="1"', '<FCDA ldInst="LD0" lnClass="GGIO" lnInst="2"',
     "UnresolvedReference"),
    ('doName="Ind1" daName="stVal" fc="ST"/>', 'doName="Ind1" daName="stVal.x" fc="ST"/>',
     "UnresolvedReference"),
])
def test_model_errors(old: str, new: str, kind: str) -> None:
    doc = parse_scl(_variant(old, new), filename="v.icd")
    with pytest.raises(SclError) as ei:
        doc.model()
    assert ei.value.kind == kind, str(ei.value)
    assert ei.value.file == "v.icd" and ei.value.line is not None and ei.value.column is not None


def test_sgroup_without_setting_control_warns(caplog: pytest.LogCaptureFixture) -> None:
    text = _variant('<SettingControl numOfSGs="3" actSG="1"/>', "")
    with caplog.at_level(logging.WARNING, logger="py61850.scl"):
        m = parse_scl(text).model()
    assert m.find("LD0/GGIO1.Set1.setVal").sgroup_values == {1: 1.5, 2: 2.5}
    assert m.find("LD0/GGIO1.Set1.setVal").value == 1.5
    assert any("SettingControl" in r.getMessage() for r in caplog.records)


# ----------------------------------------------------------------------------- IedModel.from_dict

def _spec() -> dict[str, Any]:
    return {
        "name": "DICT",
        "logical_devices": [{
            "inst": "LD0",
            "logical_nodes": [
                {"ln_class": "LLN0",
                 "data_objects": [{"name": "Mod", "cdc": "ENC", "children": [
                     {"name": "stVal", "fc": "ST", "btype": "INT32", "value": 1, "dchg": True}]}],
                 "data_sets": [{"name": "Ev", "members": [
                     {"ld_inst": "LD0", "ln_class": "GGIO", "ln_inst": "1", "do_name": "Ind1",
                      "da_name": "stVal", "fc": "ST"}]}],
                 "report_controls": [{"name": "rcb", "dataset": "Ev", "max_instances": 2}],
                 "setting_control": {"num_of_sgs": 2}},
                {"ln_class": "GGIO", "inst": "1",
                 "data_objects": [{"name": "Ind1", "children": [
                     {"name": "stVal", "fc": "ST", "btype": "BOOLEAN", "value": "true"},
                     {"name": "mag", "fc": "MX", "btype": "Struct", "children": [
                         {"name": "f", "fc": "MX", "btype": "FLOAT32", "value": 3}]}]}]},
            ],
        }],
    }


def test_from_dict_minimal() -> None:
    m = IedModel.from_dict(_spec())
    ld = m.logical_devices[0]
    assert ld.domain_name == "DICTLD0"
    lln0 = ld.logical_node("LLN0")
    assert lln0.report_controls[0].instance_names == ["rcb01", "rcb02"]
    assert lln0.report_controls[0].dataset_ref == "DICTLD0/LLN0$Ev"
    assert lln0.data_sets[0].members[0].mms_domain == "DICTLD0"
    assert m.find("LD0/GGIO1.Ind1.stVal").value is True     # SCL literal converted
    assert m.find("LD0/GGIO1.Ind1.mag.f").value == 3.0
    assert isinstance(m.find("LD0/GGIO1.Ind1.mag.f").value, float)
    assert IedModel.from_dict(m.to_dict()) == m


@pytest.mark.parametrize("mutate,kind,path", [
    (lambda s: s.update(colour="red"), "InvalidSpec", "<root>"),
    (lambda s: s.pop("name"), "MissingAttribute", "<root>"),
    (lambda s: s["logical_devices"][0]["logical_nodes"].append({"ln_class": "GGIO", "inst": "1"}),
     "DuplicateName", "logical_devices[0].logical_nodes[2]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"].reverse(), "MissingElement", "logical_devices[0]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][1]["data_objects"][0]["children"][0].update(value=2),
     "InvalidValue", "logical_devices[0].logical_nodes[1].data_objects[0].children[0]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][1]["data_objects"][0]["children"][0].update(fc="ZZ"),
     "InvalidAttribute", "logical_devices[0].logical_nodes[1].data_objects[0].children[0]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][0]["data_sets"][0]["members"][0].update(do_name="Ind2"),
     "UnresolvedReference", "logical_devices[0].logical_nodes[0].data_sets[0].members[0]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][0]["report_controls"][0].update(dataset="X"),
     "UnresolvedReference", "logical_devices[0].logical_nodes[0].report_controls[0]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][0]["data_objects"][0]["children"][0].update(
        sgroup_values={"3": 1}), "InvalidValue",
     "logical_devices[0].logical_nodes[0].data_objects[0].children[0]"),
    (lambda s: s["logical_devices"][0].update(inst=5), "InvalidSpec", "logical_devices[0].inst"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][1]["data_objects"][0]["children"][1].update(
        children=[]), "MissingElement", "logical_devices[0].logical_nodes[1].data_objects[0].children[1]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][1].update(name="GGIO2"), "InvalidSpec",
     "logical_devices[0].logical_nodes[1]"),
    (lambda s: s["logical_devices"][0]["logical_nodes"][1]["data_objects"][0]["children"].append(
        {"kind": "XX", "name": "x"}), "InvalidSpec",
     "logical_devices[0].logical_nodes[1].data_objects[0].children[2]"),
])
def test_from_dict_errors(mutate: Any, kind: str, path: str) -> None:
    spec = _spec()
    mutate(spec)
    with pytest.raises(SclError) as ei:
        IedModel.from_dict(spec)
    e = ei.value
    assert e.kind == kind, str(e)
    assert e.file == "<dict>" and e.line is None
    assert e.element_path == path, str(e)
    assert re.match(r"<dict>: \w+: ", str(e))
