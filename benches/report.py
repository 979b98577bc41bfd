#!/usr/bin/env python3
"""Turn pipeline.sh's raw numbers (WORK/results.txt: "key value" lines) into the markdown tables:
one row per measurement (rate, peak RSS) and one per target of the issue (ratio, PASS/FAIL).

usage: report.py RESULTS.txt
"""
import sys


def load(path):
    r = {}
    for line in open(path, encoding="utf-8"):
        k, _, v = line.strip().partition(" ")
        if k:
            r[k] = v
    return r


class Results:
    def __init__(self, raw):
        self.raw = raw

    def num(self, key):
        try:
            return float(self.raw[key])
        except (KeyError, ValueError):
            return None

    def ok(self, key):
        return self.raw.get(key + ".rc") == "0"

    def rate(self, key, count_key=None, count=None, secs_key=None):
        """count / seconds for a run that exited 0, else None."""
        if not self.ok(key):
            return None
        n = count if count is not None else self.num(count_key or key + ".files")
        s = self.num(secs_key or key + ".secs")
        return n / s if n and s else None

    def rss_mb(self, key):
        kb = self.num(key + ".rss_kb")
        return kb / 1024 if kb else None

    def status(self, key):
        if self.raw.get(key + ".na"):
            return "not available" if key in ("verify", "renew") else "not installed"
        if key + ".rc" not in self.raw:
            return "not run"
        if not self.ok(key):
            return "failed (exit %s)" % self.raw[key + ".rc"]
        return None


def fmt(x, digits=1):
    if x is None:
        return "–"
    if x >= 100:
        return "%.0f" % x
    return ("%." + str(digits) + "f") % x


def main():
    R = Results(load(sys.argv[1]))
    n = R.num("pages.n") or 0
    mb = (R.num("pages.bytes") or 0) / 1e6
    peer_tsa = R.raw.get("peer_tsa", "hozon")
    tsa_label = {"openssl": "OpenSSL TSA (tsa_server.py)", "hozon": "hozon tsa serve"}[peer_tsa]

    rows = []  # (tool, what, rate text, unit, rss)

    def row(key, tool, what, rate, unit, extra=""):
        st = R.status(key)
        text = st if st else fmt(rate) + extra
        rows.append((tool, what, text, unit if not st else "", fmt(R.rss_mb(key), 0) if not st else "–"))

    def ingest_rate(key):
        return R.rate(key, count=R.num(key + ".archived"))

    row("check", "hozon check", "inspect + integrity", R.rate("check", count=n), "pages/s")
    for key, label in [("ingest_builtin", "built-in TSA, default jobs"), ("ingest_j1", "built-in TSA, --jobs 1"),
                       ("ingest_j2", "built-in TSA, --jobs 2"), ("ingest_http_hozon", "HTTP TSA: hozon tsa serve"),
                       ("ingest_http_openssl", "HTTP TSA: OpenSSL tsa_server.py"),
                       ("ingest_softhsm", "built-in TSA, key on a PKCS#11 token (SoftHSM2)")]:
        d = ingest_rate(key)
        s = R.num(key + ".secs")
        extra = ""
        if d:
            extra = " docs/s · %s pages/s · %s MB/s" % (fmt(R.rate(key, count=R.num(key + ".pages"))),
                                                       fmt(R.rate(key, count=(R.num(key + ".bytes") or 0) / 1e6)))
            if R.num(key + ".archived") != n:
                extra += " (only %d of %d archived)" % (R.num(key + ".archived") or 0, n)
        row(key, "hozon ingest", label, d, "", extra)
    big = R.num("ingest_big.archived")
    if "ingest_big.rc" in R.raw:
        row("ingest_big", "hozon ingest", "%d pages, built-in TSA (memory)" % (big or 0), ingest_rate("ingest_big"), "docs/s")
    if "ingest_mid.rc" in R.raw:
        row("ingest_mid", "hozon ingest", "%d pages, built-in TSA (memory)" % (R.num("ingest_mid.archived") or 0),
            ingest_rate("ingest_mid"), "docs/s")
    row("verify", "hozon verify", "archive files", R.rate("verify"), "files/s")
    row("renew", "hozon renew", "every file due, " + tsa_label, R.rate("renew", count=R.num("renew.renewed")), "files/s")
    if "renew_noop.rc" in R.raw:
        rows.append(("hozon renew", "nothing due, %d catalog rows" % (R.num("renew_noop.rows") or 0),
                     R.status("renew_noop") or fmt(R.num("renew_noop.secs"), 3), "s", fmt(R.rss_mb("renew_noop"), 0)))
    row("img2pdf", "img2pdf (CLI)", "JPEG → PDF, per process", R.rate("img2pdf"), "docs/s")
    row("pyhanko_lib", "img2pdf + pyHanko (library loop)", "PAdES B-T, " + tsa_label,
        R.rate("pyhanko_lib", secs_key="pyhanko_lib.loop_secs"), "docs/s")
    # CLI peers: a user runs img2pdf then the signer, one process each per document
    img = R.rate("img2pdf")

    def chained(key):
        r = R.rate(key)
        return 1 / (1 / r + 1 / img) if r and img else None

    row("pyhanko_cli", "img2pdf + pyHanko (CLI)", "PAdES B-T, " + tsa_label, chained("pyhanko_cli"), "docs/s")
    row("pdf_signer", "img2pdf + pdf_signer (CLI)", "PAdES B-T, " + tsa_label, chained("pdf_signer"), "docs/s")
    row("pdf_signer", "pdf_signer (CLI) alone", "PAdES B-T of the ready PDFs", R.rate("pdf_signer"), "docs/s")
    row("pdfsig_nocert", "pdfsig", "verify, -nocert", R.rate("pdfsig_nocert"), "files/s")
    if "pdfsig_cert.rc" in R.raw:
        row("pdfsig_cert", "pdfsig", "verify with certificate checks", R.rate("pdfsig_cert"), "files/s")
    row("pdf_signer_verify", "pdf_signer verify", "--roots", R.rate("pdf_signer_verify"), "files/s")
    row("pyhanko_val", "pyHanko (library loop)", "validate", R.rate("pyhanko_val", secs_key="pyhanko_val.loop_secs"), "files/s")
    row("pyhanko_lta", "pyHanko sign ltaupdate (CLI)", "renewal, " + tsa_label, R.rate("pyhanko_lta"), "files/s")
    dgst = R.rate("dgst1", count=mb * (R.num("dgst.reps") or 1), secs_key="dgst.secs")
    row("dgst1", "openssl dgst -sha256", "same pages, one process", dgst, "MB/s")
    for t, label in [("hozon", "hozon tsa serve"), ("openssl", "OpenSSL tsa_server.py")]:
        v = R.num("tsa_%s.per_sec" % t)
        if v is not None:
            rows.append(("TSA bare capacity", "%s, %s concurrent" % (label, R.raw.get("tsa.concurrency", "?")), fmt(v), "tokens/s", "–"))

    print("Machine: %s CPUs, %s; %s; %d pages, %.1f MB (%.0f KB/page); peers' TSA: %s.\n" % (
        R.raw.get("machine.cpus", "?"), R.raw.get("machine.model", "?").replace("_", " "),
        R.raw.get("hozon.version", "hozon").replace("_", " "), n, mb, mb * 1000 / n if n else 0, tsa_label))
    print("| tool | run | rate | unit | peak RSS MB |")
    print("|---|---|---:|---|---:|")
    for t in rows:
        print("| %s | %s | %s | %s | %s |" % t)

    # ------------------------------------------------------------ targets
    ib = ingest_rate("ingest_builtin")
    ih = ingest_rate("ingest_http_" + peer_tsa)
    # strict: pdf_signer is not charged for the img2pdf step it needs (Python start-up per file)
    ps = R.rate("pdf_signer")
    pl = R.rate("pyhanko_lib", secs_key="pyhanko_lib.loop_secs")
    cap = R.num("tsa_%s.per_sec" % peer_tsa)
    ver = R.rate("verify")
    ren = R.rate("renew", count=R.num("renew.renewed"))
    ib_mbs = R.rate("ingest_builtin", count=(R.num("ingest_builtin.bytes") or 0) / 1e6)
    j1, j2 = ingest_rate("ingest_j1"), ingest_rate("ingest_j2")
    big_rss, small_rss = R.rss_mb("ingest_big"), R.rss_mb("ingest_builtin")

    targets = []

    def target(name, value, goal, ok_fn, unit="×"):
        if value is None:
            targets.append((name, "–", goal, "n/a"))
        elif ok_fn is None:
            targets.append((name, fmt(value, 2) + unit, goal, "info"))
        else:
            targets.append((name, fmt(value, 2) + unit, goal, "PASS" if ok_fn(value) else "FAIL"))

    def ratio(a, b):
        return a / b if a and b else None

    target("ingest (built-in TSA) vs pyHanko library loop, docs/s", ratio(ib, pl), "≥ 50×", lambda v: v >= 50)
    target("ingest (built-in TSA) vs pdf_signer alone, docs/s", ratio(ib, ps), "≥ 6×", lambda v: v >= 6)
    target("ingest (built-in TSA) vs img2pdf + pdf_signer, docs/s", ratio(ib, chained("pdf_signer")), "–", None)
    target("ingest (built-in TSA) MB/s vs openssl dgst -sha256 MB/s", ratio(ib_mbs, dgst), "≥ 0.25", lambda v: v >= 0.25, "")
    target("ingest (%s) vs pdf_signer alone (same TSA)" % tsa_label, ratio(ih, ps), "≥ 3×", lambda v: v >= 3)
    # No client can beat the TSA: its bare capacity over pdf_signer's rate bounds the ratio above.
    target("ceiling of the ratio above: that TSA's bare capacity vs pdf_signer alone", ratio(cap, ps), "–", None)
    target("ingest (%s) vs that TSA's bare capacity" % tsa_label, ratio(ih, cap), "≥ 0.80", lambda v: v >= 0.8, "")
    target("verify vs pdfsig -nocert, files/s", ratio(ver, R.rate("pdfsig_nocert")), "≥ 10×", lambda v: v >= 10)
    if "pdfsig_cert.rc" in R.raw:
        target("verify vs pdfsig with certificate checks", ratio(ver, R.rate("pdfsig_cert")), "–", None)
    target("verify vs pdf_signer verify, files/s", ratio(ver, R.rate("pdf_signer_verify")), "≥ 20×", lambda v: v >= 20)
    target("verify vs pyHanko library loop, files/s", ratio(ver, R.rate("pyhanko_val", secs_key="pyhanko_val.loop_secs")),
           "≥ 50×", lambda v: v >= 50)
    target("renew (%s) vs that TSA's bare capacity" % tsa_label, ratio(ren, cap), "≥ 0.80", lambda v: v >= 0.8, "")
    target("renew vs pyHanko ltaupdate (CLI)", ratio(ren, R.rate("pyhanko_lta")), "–", None)
    target("ingest --jobs 2 vs --jobs 1", ratio(j2, j1), "≥ 1.7×", lambda v: v >= 1.7)
    target("ingest with the key on a PKCS#11 token (SoftHSM2) vs the same key as a file, docs/s",
           ratio(ingest_rate("ingest_softhsm"), ib), "≥ 0.8×", lambda v: v >= 0.8)
    if big_rss is not None:
        target("peak RSS of a %d-page ingest" % (R.num("ingest_big.archived") or 0), big_rss, "< 300 MB",
               lambda v: v < 300, " MB")
        mid_rss = R.rss_mb("ingest_mid")
        if mid_rss is not None:
            target("peak RSS growth, %d vs %d pages" % (R.num("ingest_big.archived") or 0, R.num("ingest_mid.archived") or 0),
                   ratio(big_rss, mid_rss), "≤ 1.25 (flat)", lambda v: v <= 1.25, "")
        target("peak RSS, %d vs %d pages (the short run ends before its working set is reached)"
               % (R.num("ingest_big.archived") or 0, n), ratio(big_rss, small_rss), "–", None, "")
    if "renew_noop.secs" in R.raw:
        due = R.num("renew_noop.due")
        target("renew, nothing due, %d rows (due found: %d)" % (R.num("renew_noop.rows") or 0, due or 0),
               R.num("renew_noop.secs") if R.ok("renew_noop") else None, "< 1 s", lambda v: v < 1 and not due, " s")
    print("\n| target | measured | goal | |")
    print("|---|---:|---|---|")
    for t in targets:
        print("| %s | %s | %s | %s |" % t)


if __name__ == "__main__":
    main()
