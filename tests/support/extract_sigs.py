#!/usr/bin/env python3
"""extract_sigs.py PDF OUTDIR — hozon's test helper: split a signed PDF into what independent tools check.

Reads the raw bytes (no PDF library: the ByteRange is the contract), and for each /ByteRange writes
  OUTDIR/signedN.bin   the bytes the signature covers (both ranges concatenated)
  OUTDIR/sigN.der      the /Contents CMS (DER, padding trimmed)
  OUTDIR/sigvalN.bin   the SignerInfo signature value (CAdES signatures only)
  OUTDIR/tstN.der      the signature-time-stamp token (when present)
and prints one tab-separated line per signature:
  N  kind(cms|doc-ts)  byterange(ok|reason)  has_tst(0|1)  covers_eof(0|1)
Uses asn1crypto (installed with pyHanko) to take the CMS apart; it verifies nothing itself.
"""
import os
import re
import sys

from asn1crypto import cms

TSTINFO_OID = "1.2.840.113549.1.9.16.1.4"


def main():
    path, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    data = open(path, "rb").read()
    n = 0
    for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
        a, b, c, d = (int(x) for x in m.groups())
        n += 1
        status = "ok"
        if a != 0 or b <= 0 or c <= b or c + d > len(data):
            status = "range-outside-file"
        gap = data[b:c] if status == "ok" else b""
        if status == "ok" and not (gap.startswith(b"<") and gap.endswith(b">")):
            status = "gap-is-not-contents-string"
        hexstr = gap[1:-1] if status == "ok" else b""
        if status == "ok" and re.search(rb"[^0-9a-fA-F]", hexstr):
            status = "contents-not-hex"
        if status != "ok":
            print(f"{n}\t?\t{status}\t0\t0")
            continue
        raw = bytes.fromhex(hexstr.decode())
        # trim zero padding to the DER length
        info = cms.ContentInfo.load(raw, strict=False)
        der = info.dump()
        open(os.path.join(out, f"signed{n}.bin"), "wb").write(data[a:a + b] + data[c:c + d])
        open(os.path.join(out, f"sig{n}.der"), "wb").write(der)
        sd = info["content"]
        kind = "doc-ts" if sd["encap_content_info"]["content_type"].dotted == TSTINFO_OID else "cms"
        has_tst = 0
        if kind == "cms":
            si = sd["signer_infos"][0]
            open(os.path.join(out, f"sigval{n}.bin"), "wb").write(si["signature"].native)
            for attr in si["unsigned_attrs"] or []:
                if attr["type"].dotted == "1.2.840.113549.1.9.16.2.14":
                    open(os.path.join(out, f"tst{n}.der"), "wb").write(attr["values"][0].dump())
                    has_tst = 1
        print(f"{n}\t{kind}\t{status}\t{has_tst}\t{1 if c + d == len(data) else 0}")
    if n == 0:
        print("no /ByteRange found", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
