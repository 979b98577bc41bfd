#!/usr/bin/env python3
"""Read certificates with asn1crypto (the ASN.1 library under pyHanko and endesive), every
extension included (`cert.native`), and print one JSON line per file:
{"file", "ok", "error", "hc_roles": [[scheme OID, role text], ...]}.

asn1crypto knows no ISO 17090 attribute, and for an unknown subjectDirectoryAttributes value
it fails on any HPKI certificate (the MEDIS ones too): it cannot parse a SET with members
generically. So, as a verifier of HPKI certificates must, this script first teaches it the
ISO 17090-3 module:

    HCActorData ::= SET OF HCActor
    HCActor ::= SEQUENCE { codedData [0] CodedData OPTIONAL,
                           regionalHCActorData [1] SEQUENCE OF RegionalData OPTIONAL }
    CodedData ::= SET { codingSchemeReference [0] OBJECT IDENTIFIER,
                        codingSchemeVersion [1] ... OPTIONAL,
                        codeDataFreeText [2] DirectoryString-like text OPTIONAL, ... }

(explicit tags, as the JP HPKI certificate profile and the MEDIS certificates have them).
A certificate whose HCActorData is a SEQUENCE OF does not parse under it.

With --self-test, also encode both forms by hand and report how each parses.
"""
import json
import ssl
import sys

from asn1crypto import core, x509

HC_ROLE = "1.0.17090.0.1"


class CodedData(core.Set):
    _fields = [
        ("coding_scheme_reference", core.ObjectIdentifier, {"explicit": 0}),
        ("coding_scheme_version", core.Any, {"explicit": 1, "optional": True}),
        ("code_data_free_text", core.UTF8String, {"explicit": 2, "optional": True}),
        ("code_data_directory_text", core.Any, {"explicit": 3, "optional": True}),
    ]


class HCActor(core.Sequence):
    _fields = [
        ("coded_data", CodedData, {"explicit": 0, "optional": True}),
        ("regional_hc_actor_data", core.Any, {"explicit": 1, "optional": True}),
    ]


class HCActorData(core.SetOf):
    _child_spec = HCActor


class SetOfHCActorData(core.SetOf):
    _child_spec = HCActorData


x509.SubjectDirectoryAttributeId._map[HC_ROLE] = "hc_role"
x509.SubjectDirectoryAttribute._oid_specs["hc_role"] = SetOfHCActorData


def roles(cert):
    out = []
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == "subject_directory_attributes":
            out.extend(roles_in(ext["extn_value"].parsed))
    return out


def roles_in(attributes):
    out = []
    for attr in attributes:
        if attr["type"].native != "hc_role":
            continue
        for actor_data in attr["values"]:
            for actor in actor_data:
                coded = actor["coded_data"]
                out.append([coded["coding_scheme_reference"].dotted, coded["code_data_free_text"].native])
    return out


def check(name, der):
    try:
        cert = x509.Certificate.load(der)
        cert.native  # every field and extension, decoded
        for ext in cert["tbs_certificate"]["extensions"]:
            ext["extn_value"].native
        return {"file": name, "ok": True, "error": None, "hc_roles": roles(cert)}
    except Exception as e:  # noqa: BLE001 - the message is the result
        return {"file": name, "ok": False, "error": str(e).splitlines()[0], "hc_roles": []}


def tlv(tag, content):
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    return bytes([tag, 0x81, n]) + content


def extension_value(actor_data_tag):
    scheme = tlv(0x06, bytes.fromhex("2a830886910f01060101"))  # 1.2.392.100495.1.6.1.1
    coded = tlv(0x31, tlv(0xA0, scheme) + tlv(0xA2, tlv(0x0C, b"Medical Doctor")))
    actor = tlv(0x30, tlv(0xA0, coded))
    attr = tlv(0x30, tlv(0x06, bytes.fromhex("288185420001")) + tlv(0x31, tlv(actor_data_tag, actor)))
    return tlv(0x30, attr)


def self_test():
    for name, tag in [("set-of", 0x31), ("sequence-of", 0x30)]:
        try:
            value = x509.SubjectDirectoryAttributes.load(extension_value(tag))
            value.native
            print(json.dumps({"file": name, "ok": True, "error": None, "hc_roles": roles_in(value)}))
        except Exception as e:  # noqa: BLE001
            print(json.dumps({"file": name, "ok": False, "error": str(e).splitlines()[0], "hc_roles": []}))


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--self-test"]:
        self_test()
        args = args[1:]
    for path in args:
        with open(path) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        print(json.dumps(check(path, der), ensure_ascii=False))
