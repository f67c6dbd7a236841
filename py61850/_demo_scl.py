"""The model bundled for ``py61850 demo``: a small feeder IED written for py61850.

It lives in a Python module (not a data file) so that it ships with the package
without any package-data configuration. :func:`demo_model` parses it.
"""
from __future__ import annotations

from typing import Any

__all__ = ["DEMO_ICD", "demo_model"]

DEMO_ICD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- demo_ied.icd: the py61850 demo IED (written for py61850). IED "DEMO", five logical
     devices: DEMOLD0 (device), DEMOMeas (MMXU1 with sub data objects), DEMOIO (GGIO1:
     indications, an alarm, an analogue input and two setpoints; an event log and a GOOSE
     control block), DEMOCtrl (switchgear: CSWI1..4 Pos, one double-point switch per control
     model), DEMOProt (PTOC1 with three setting groups). -->
<SCL xmlns="http://www.iec.ch/61850/2003/SCL" version="2007" revision="B" release="4">
  <Header id="py61850-demo" version="1" revision="0" toolID="py61850" nameStructure="IEDName"/>
  <Communication>
    <SubNetwork name="Demo" type="8-MMS">
      <ConnectedAP iedName="DEMO" apName="AP1">
        <Address><P type="IP">127.0.0.1</P></Address>
        <GSE ldInst="IO" cbName="gcbAlarms">
          <Address>
            <P type="MAC-Address">01-0C-CD-01-00-10</P>
            <P type="APPID">3001</P>
            <P type="VLAN-ID">000</P>
            <P type="VLAN-PRIORITY">4</P>
          </Address>
          <MinTime unit="s" multiplier="m">10</MinTime>
          <MaxTime unit="s" multiplier="m">2000</MaxTime>
        </GSE>
      </ConnectedAP>
    </SubNetwork>
  </Communication>
  <IED name="DEMO" manufacturer="py61850" type="DemoFeeder" configVersion="1.0">
    <Services><GetDirectory/><GetDataObjectDefinition/><ReadWrite/><DataSetDirectory/><GetDataSetValue/><ConfDataSet max="4" maxAttributes="16"/><ConfReportControl max="4"/><GetCBValues/><ConfLogControl max="1"/><GOOSE max="1"/><SettingGroups><SGEdit/><ConfSG/></SettingGroups></Services>
    <AccessPoint name="AP1">
      <Server>
        <Authentication none="true"/>
        <LDevice inst="LD0" desc="Device">
          <LN0 lnClass="LLN0" inst="" lnType="DEMO_LLN0">
            <DOI name="Mod"><DAI name="stVal"><Val>on</Val></DAI><DAI name="ctlModel"><Val>status-only</Val></DAI></DOI>
            <DOI name="Beh"><DAI name="stVal"><Val>on</Val></DAI></DOI>
            <DOI name="Health"><DAI name="stVal"><Val>Ok</Val></DAI></DOI>
            <DOI name="NamPlt">
              <DAI name="vendor"><Val>py61850</Val></DAI>
              <DAI name="swRev"><Val>1.0</Val></DAI>
              <DAI name="d"><Val>py61850 demo feeder IED</Val></DAI>
            </DOI>
          </LN0>
          <LN lnClass="LPHD" inst="1" lnType="DEMO_LPHD">
            <DOI name="PhyNam"><DAI name="vendor"><Val>py61850</Val></DAI></DOI>
            <DOI name="PhyHealth"><DAI name="stVal"><Val>Ok</Val></DAI></DOI>
          </LN>
        </LDevice>
        <LDevice inst="Meas" desc="Feeder measurements">
          <LN0 lnClass="LLN0" inst="" lnType="DEMO_LLN0">
            <DOI name="Mod"><DAI name="stVal"><Val>on</Val></DAI><DAI name="ctlModel"><Val>status-only</Val></DAI></DOI>
            <DOI name="Beh"><DAI name="stVal"><Val>on</Val></DAI></DOI>
            <DOI name="Health"><DAI name="stVal"><Val>Ok</Val></DAI></DOI>
          </LN0>
          <LN lnClass="MMXU" inst="1" lnType="DEMO_MMXU" desc="Feeder 1">
            <DOI name="TotW"><SDI name="mag"><DAI name="f"><Val>1520.5</Val></DAI></SDI>
              <DAI name="d"><Val>Total active power (kW)</Val></DAI></DOI>
            <DOI name="TotVAr"><SDI name="mag"><DAI name="f"><Val>310.25</Val></DAI></SDI>
              <DAI name="d"><Val>Total reactive power (kvar)</Val></DAI></DOI>
            <DOI name="Hz"><SDI name="mag"><DAI name="f"><Val>50.0</Val></DAI></SDI>
              <DAI name="d"><Val>Frequency (Hz)</Val></DAI></DOI>
            <DOI name="PhV">
              <SDI name="phsA"><SDI name="cVal"><SDI name="mag"><DAI name="f"><Val>230.1</Val></DAI></SDI></SDI></SDI>
              <SDI name="phsB"><SDI name="cVal"><SDI name="mag"><DAI name="f"><Val>229.8</Val></DAI></SDI></SDI></SDI>
              <SDI name="phsC"><SDI name="cVal"><SDI name="mag"><DAI name="f"><Val>230.4</Val></DAI></SDI></SDI></SDI>
            </DOI>
          </LN>
        </LDevice>
        <LDevice inst="IO" desc="Generic I/O">
          <LN0 lnClass="LLN0" inst="" lnType="DEMO_LLN0">
            <DataSet name="Alarms" desc="indications and the cabinet temperature">
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="Ind1" daName="stVal" fc="ST"/>
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="Ind2" daName="stVal" fc="ST"/>
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="Alm1" daName="stVal" fc="ST"/>
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="AnIn1" daName="mag.f" fc="MX"/>
            </DataSet>
            <ReportControl name="urcbAlarms" rptID="Alarms" datSet="Alarms" confRev="1" buffered="false"
                           bufTime="0" intgPd="0">
              <TrgOps dchg="true" qchg="true" gi="true"/>
              <OptFields seqNum="true" timeStamp="true" dataSet="true" reasonCode="true" dataRef="true"
                         configRef="true"/>
              <RptEnabled max="2"/>
            </ReportControl>
            <DataSet name="Events" desc="what the event log records">
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="Ind1" daName="stVal" fc="ST"/>
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="Ind2" daName="stVal" fc="ST"/>
              <FCDA ldInst="IO" lnClass="GGIO" lnInst="1" doName="Alm1" daName="stVal" fc="ST"/>
            </DataSet>
            <LogControl name="EventLog" datSet="Events" logName="EventLog" logEna="true" reasonCode="true">
              <TrgOps dchg="true" qchg="true"/>
            </LogControl>
            <GSEControl name="gcbAlarms" datSet="Alarms" confRev="1" appID="DEMO/Alarms" type="GOOSE"/>
            <Log name="EventLog"/>
            <DOI name="Mod"><DAI name="stVal"><Val>on</Val></DAI><DAI name="ctlModel"><Val>status-only</Val></DAI></DOI>
            <DOI name="Beh"><DAI name="stVal"><Val>on</Val></DAI></DOI>
            <DOI name="Health"><DAI name="stVal"><Val>Ok</Val></DAI></DOI>
          </LN0>
          <LN lnClass="GGIO" inst="1" lnType="DEMO_GGIO">
            <DOI name="Ind1"><DAI name="stVal"><Val>true</Val></DAI><DAI name="d"><Val>Breaker closed</Val></DAI></DOI>
            <DOI name="Ind2"><DAI name="stVal"><Val>false</Val></DAI><DAI name="d"><Val>Door open</Val></DAI></DOI>
            <DOI name="Alm1"><DAI name="stVal"><Val>false</Val></DAI><DAI name="d"><Val>Gas pressure low</Val></DAI></DOI>
            <DOI name="AnIn1"><SDI name="mag"><DAI name="f"><Val>21.5</Val></DAI></SDI>
              <DAI name="d"><Val>Cabinet temperature (degC)</Val></DAI></DOI>
            <DOI name="SetPt1"><SDI name="setMag"><DAI name="f"><Val>35.0</Val></DAI></SDI>
              <DAI name="d"><Val>Temperature alarm threshold (degC)</Val></DAI></DOI>
            <DOI name="IntSet1"><DAI name="setVal"><Val>3</Val></DAI><DAI name="d"><Val>Fan stages</Val></DAI></DOI>
          </LN>
        </LDevice>
        <LDevice inst="Ctrl" desc="Switchgear">
          <LN0 lnClass="LLN0" inst="" lnType="DEMO_LLN0">
            <DOI name="Mod"><DAI name="stVal"><Val>on</Val></DAI><DAI name="ctlModel"><Val>status-only</Val></DAI></DOI>
            <DOI name="Beh"><DAI name="stVal"><Val>on</Val></DAI></DOI>
            <DOI name="Health"><DAI name="stVal"><Val>Ok</Val></DAI></DOI>
          </LN0>
          <LN lnClass="CSWI" inst="1" lnType="DEMO_CSWI_DN" desc="Disconnector Q1">
            <DOI name="Pos"><DAI name="stVal"><Val>off</Val></DAI>
              <DAI name="ctlModel"><Val>direct-with-normal-security</Val></DAI></DOI>
          </LN>
          <LN lnClass="CSWI" inst="2" lnType="DEMO_CSWI_SN" desc="Earthing switch Q8">
            <DOI name="Pos"><DAI name="stVal"><Val>off</Val></DAI>
              <DAI name="ctlModel"><Val>sbo-with-normal-security</Val></DAI>
              <DAI name="sboTimeout"><Val>10000</Val></DAI></DOI>
          </LN>
          <LN lnClass="CSWI" inst="3" lnType="DEMO_CSWI_DE" desc="Bus coupler Q2">
            <DOI name="Pos"><DAI name="stVal"><Val>off</Val></DAI>
              <DAI name="ctlModel"><Val>direct-with-enhanced-security</Val></DAI></DOI>
          </LN>
          <LN lnClass="CSWI" inst="4" lnType="DEMO_CSWI_SE" desc="Circuit breaker Q0">
            <DOI name="Pos"><DAI name="stVal"><Val>off</Val></DAI>
              <DAI name="ctlModel"><Val>sbo-with-enhanced-security</Val></DAI>
              <DAI name="sboTimeout"><Val>10000</Val></DAI></DOI>
          </LN>
        </LDevice>
        <LDevice inst="Prot" desc="Protection">
          <LN0 lnClass="LLN0" inst="" lnType="DEMO_LLN0">
            <DOI name="Mod"><DAI name="stVal"><Val>on</Val></DAI><DAI name="ctlModel"><Val>status-only</Val></DAI></DOI>
            <DOI name="Beh"><DAI name="stVal"><Val>on</Val></DAI></DOI>
            <DOI name="Health"><DAI name="stVal"><Val>Ok</Val></DAI></DOI>
            <SettingControl numOfSGs="3" actSG="1" desc="1 normal, 2 storm season, 3 commissioning"/>
          </LN0>
          <LN lnClass="PTOC" inst="1" lnType="DEMO_PTOC" desc="Feeder overcurrent">
            <DOI name="StrVal">
              <SDI name="setMag"><DAI name="f"><Val sGroup="1">400</Val><Val sGroup="2">320</Val><Val sGroup="3">50</Val></DAI></SDI>
              <DAI name="d"><Val>Pickup current (A)</Val></DAI>
            </DOI>
            <DOI name="OpDlTmms">
              <DAI name="setVal"><Val sGroup="1">300</Val><Val sGroup="2">150</Val><Val sGroup="3">1000</Val></DAI>
              <DAI name="d"><Val>Operate delay (ms)</Val></DAI>
            </DOI>
          </LN>
        </LDevice>
      </Server>
    </AccessPoint>
  </IED>
  <DataTypeTemplates>
    <LNodeType id="DEMO_LLN0" lnClass="LLN0">
      <DO name="Mod" type="DEMO_ENC_Mod"/>
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="Health" type="DEMO_ENS_Health"/>
      <DO name="NamPlt" type="DEMO_LPL"/>
    </LNodeType>
    <LNodeType id="DEMO_LPHD" lnClass="LPHD">
      <DO name="PhyNam" type="DEMO_DPL"/>
      <DO name="PhyHealth" type="DEMO_ENS_Health"/>
      <DO name="Proxy" type="DEMO_SPS"/>
    </LNodeType>
    <LNodeType id="DEMO_MMXU" lnClass="MMXU">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="TotW" type="DEMO_MV"/>
      <DO name="TotVAr" type="DEMO_MV"/>
      <DO name="Hz" type="DEMO_MV"/>
      <DO name="PhV" type="DEMO_WYE"/>
    </LNodeType>
    <LNodeType id="DEMO_GGIO" lnClass="GGIO">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="Ind1" type="DEMO_SPS"/>
      <DO name="Ind2" type="DEMO_SPS"/>
      <DO name="Alm1" type="DEMO_SPS"/>
      <DO name="AnIn1" type="DEMO_MV"/>
      <DO name="SetPt1" type="DEMO_ASG"/>
      <DO name="IntSet1" type="DEMO_ING"/>
    </LNodeType>
    <LNodeType id="DEMO_PTOC" lnClass="PTOC">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="StrVal" type="DEMO_ASG_SG"/>
      <DO name="OpDlTmms" type="DEMO_ING_SG"/>
    </LNodeType>
    <LNodeType id="DEMO_CSWI_DN" lnClass="CSWI">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="Pos" type="DEMO_DPC_DN"/>
    </LNodeType>
    <LNodeType id="DEMO_CSWI_SN" lnClass="CSWI">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="Pos" type="DEMO_DPC_SN"/>
    </LNodeType>
    <LNodeType id="DEMO_CSWI_DE" lnClass="CSWI">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="Pos" type="DEMO_DPC_DN"/>
    </LNodeType>
    <LNodeType id="DEMO_CSWI_SE" lnClass="CSWI">
      <DO name="Beh" type="DEMO_ENS_Beh"/>
      <DO name="Pos" type="DEMO_DPC_SE"/>
    </LNodeType>
    <DOType id="DEMO_ENC_Mod" cdc="ENC">
      <DA name="stVal" bType="Enum" type="BehaviourModeKind" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
    </DOType>
    <DOType id="DEMO_ENS_Beh" cdc="ENS">
      <DA name="stVal" bType="Enum" type="BehaviourModeKind" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
    </DOType>
    <DOType id="DEMO_ENS_Health" cdc="ENS">
      <DA name="stVal" bType="Enum" type="HealthKind" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
    </DOType>
    <DOType id="DEMO_LPL" cdc="LPL">
      <DA name="vendor" bType="VisString255" fc="DC"/>
      <DA name="swRev" bType="VisString255" fc="DC"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_DPL" cdc="DPL">
      <DA name="vendor" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_SPS" cdc="SPS">
      <DA name="stVal" bType="BOOLEAN" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_MV" cdc="MV">
      <DA name="mag" bType="Struct" type="DEMO_AnalogueValue" fc="MX" dchg="true"/>
      <DA name="q" bType="Quality" fc="MX" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="MX"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_CMV" cdc="CMV">
      <DA name="cVal" bType="Struct" type="DEMO_Vector" fc="MX" dchg="true"/>
      <DA name="q" bType="Quality" fc="MX" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="MX"/>
    </DOType>
    <DOType id="DEMO_WYE" cdc="WYE">
      <SDO name="phsA" type="DEMO_CMV"/>
      <SDO name="phsB" type="DEMO_CMV"/>
      <SDO name="phsC" type="DEMO_CMV"/>
    </DOType>
    <DOType id="DEMO_ASG" cdc="ASG">
      <DA name="setMag" bType="Struct" type="DEMO_AnalogueValue" fc="SP" dchg="true"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_ING" cdc="ING">
      <DA name="setVal" bType="INT32" fc="SP" dchg="true"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_ASG_SG" cdc="ASG">
      <DA name="setMag" bType="Struct" type="DEMO_AnalogueValue" fc="SG" dchg="true"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_ING_SG" cdc="ING">
      <DA name="setVal" bType="INT32" fc="SG" dchg="true"/>
      <DA name="d" bType="VisString255" fc="DC"/>
    </DOType>
    <DOType id="DEMO_DPC_DN" cdc="DPC">
      <DA name="origin" bType="Struct" type="DEMO_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="Dbpos" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="Oper" bType="Struct" type="DEMO_DPCOperate" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
    </DOType>
    <DOType id="DEMO_DPC_SN" cdc="DPC">
      <DA name="origin" bType="Struct" type="DEMO_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="Dbpos" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="SBO" bType="VisString65" fc="CO"/>
      <DA name="Oper" bType="Struct" type="DEMO_DPCOperate" fc="CO"/>
      <DA name="Cancel" bType="Struct" type="DEMO_DPCCancel" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
      <DA name="sboTimeout" bType="INT32U" fc="CF"/>
    </DOType>
    <DOType id="DEMO_DPC_SE" cdc="DPC">
      <DA name="origin" bType="Struct" type="DEMO_Originator" fc="ST"/>
      <DA name="ctlNum" bType="INT8U" fc="ST"/>
      <DA name="stVal" bType="Dbpos" fc="ST" dchg="true"/>
      <DA name="q" bType="Quality" fc="ST" qchg="true"/>
      <DA name="t" bType="Timestamp" fc="ST"/>
      <DA name="SBOw" bType="Struct" type="DEMO_DPCOperate" fc="CO"/>
      <DA name="Oper" bType="Struct" type="DEMO_DPCOperate" fc="CO"/>
      <DA name="Cancel" bType="Struct" type="DEMO_DPCCancel" fc="CO"/>
      <DA name="ctlModel" bType="Enum" type="CtlModelKind" fc="CF"/>
      <DA name="sboTimeout" bType="INT32U" fc="CF"/>
    </DOType>
    <DAType id="DEMO_Originator">
      <BDA name="orCat" bType="Enum" type="OrCatKind"/>
      <BDA name="orIdent" bType="Octet64"/>
    </DAType>
    <DAType id="DEMO_DPCOperate">
      <BDA name="ctlVal" bType="BOOLEAN"/>
      <BDA name="origin" bType="Struct" type="DEMO_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
      <BDA name="Check" bType="Check"/>
    </DAType>
    <DAType id="DEMO_DPCCancel">
      <BDA name="ctlVal" bType="BOOLEAN"/>
      <BDA name="origin" bType="Struct" type="DEMO_Originator"/>
      <BDA name="ctlNum" bType="INT8U"/>
      <BDA name="T" bType="Timestamp"/>
      <BDA name="Test" bType="BOOLEAN"/>
    </DAType>
    <DAType id="DEMO_AnalogueValue">
      <BDA name="f" bType="FLOAT32"/>
    </DAType>
    <DAType id="DEMO_Vector">
      <BDA name="mag" bType="Struct" type="DEMO_AnalogueValue"/>
    </DAType>
    <EnumType id="BehaviourModeKind">
      <EnumVal ord="1">on</EnumVal>
      <EnumVal ord="2">on-blocked</EnumVal>
      <EnumVal ord="3">test</EnumVal>
      <EnumVal ord="4">test/blocked</EnumVal>
      <EnumVal ord="5">off</EnumVal>
    </EnumType>
    <EnumType id="HealthKind">
      <EnumVal ord="1">Ok</EnumVal>
      <EnumVal ord="2">Warning</EnumVal>
      <EnumVal ord="3">Alarm</EnumVal>
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
    <EnumType id="CtlModelKind">
      <EnumVal ord="0">status-only</EnumVal>
      <EnumVal ord="1">direct-with-normal-security</EnumVal>
      <EnumVal ord="2">sbo-with-normal-security</EnumVal>
      <EnumVal ord="3">direct-with-enhanced-security</EnumVal>
      <EnumVal ord="4">sbo-with-enhanced-security</EnumVal>
    </EnumType>
  </DataTypeTemplates>
</SCL>
"""


def demo_model() -> Any:
    """The demo IED's :class:`~py61850.scl.IedModel`."""
    from .scl import parse_scl

    return parse_scl(DEMO_ICD, filename="<py61850 demo_ied.icd>").model()
