#!/usr/bin/env python3
"""pyHanko as a library in one process: the fairest pyHanko numbers (no interpreter start-up or
imports per file). Key material and trust are loaded once, before the clock starts.

usage: peer_pyhanko_loop.py sign --p12 FILE --pass-file FILE --tsa URL --out DIR JPEG...
         each JPEG -> img2pdf (in process) -> PAdES B-T signature (pyHanko, HTTP TSA) -> DIR/NAME.pdf
       peer_pyhanko_loop.py validate --root PEM PDF...
         each PDF -> every embedded signature validated (integrity, signature, timestamp, trust
         path to --root with the revocation data the file carries; no fetching)
Prints one JSON line: {"files": n, "ok": k, "secs": wall seconds of the loop}.
"""
import argparse, io, json, os, sys, time


def sign(a):
    import img2pdf
    from pyhanko.sign import signers, fields, timestamps
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(a.pass_file, "rb") as f:
        password = f.read().strip()
    signer = signers.SimpleSigner.load_pkcs12(a.p12, passphrase=password)
    tsa = timestamps.HTTPTimeStamper(a.tsa)
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason="bench", location="診療情報管理室", name="デモ 作業責任者")
    os.makedirs(a.out, exist_ok=True)
    ok = 0
    t0 = time.perf_counter()
    for path in a.files:
        with open(path, "rb") as f:
            pdf = img2pdf.convert(f.read())
        w = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = io.BytesIO()
        signers.sign_pdf(w, meta, signer=signer, timestamper=tsa, output=out)
        name = os.path.splitext(os.path.basename(path))[0] + ".pdf"
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(out.getbuffer())
        ok += 1
    return len(a.files), ok, time.perf_counter() - t0


def validate(a):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = load_cert_from_pemder(a.root)
    ok = 0
    t0 = time.perf_counter()
    for path in a.files:
        with open(path, "rb") as f:
            r = PdfFileReader(f)
            good = bool(r.embedded_signatures)
            for sig in r.embedded_signatures:
                # a fresh context per file, as a per-file validation would have
                vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
                st = validate_pdf_signature(sig, signer_validation_context=vc)
                good = good and st.bottom_line
        ok += good
    return len(a.files), ok, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    s.add_argument("--p12", required=True)
    s.add_argument("--pass-file", required=True)
    s.add_argument("--tsa", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("files", nargs="+")
    v = sub.add_parser("validate")
    v.add_argument("--root", required=True)
    v.add_argument("files", nargs="+")
    a = ap.parse_args()
    n, ok, secs = (sign if a.cmd == "sign" else validate)(a)
    print(json.dumps({"files": n, "ok": ok, "secs": secs}))
    return 0 if ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
