/*
 * ErsCheck: hozon's own BouncyCastle peer for RFC 4998 evidence records (tests only).
 *
 *   verify --trust ROOT.pem (FILE.ers DATAFILE)...   one line per pair: PASS ... | FAIL <reason>
 *   make   --tsa URL --out-dir DIR [--alg A] FILE... one timestamp, DIR/<basename>.ers per FILE
 *   renew  --tsa URL FILE.ers                        timestamp renewal (RFC 4998 5.2), in place
 *   rehash --tsa URL [--alg A] FILE.ers DATAFILE     hash-tree renewal (default sha512), in place
 *
 * verify runs two opinions and needs both: (1) BouncyCastle's org.bouncycastle.tsp.ers API
 * (ERSEvidenceRecord.validatePresent + validate), and (2) an independent recomputation from the
 * ASN.1 of every chain and timestamp (first covers the data, each later one its predecessor,
 * each new chain H(H(data) || H(DER earlier chains))), plus every token's signature
 * (TimeStampToken.validate) and TSA path to ROOT (JDK PKIX) at the next timestamp's genTime.
 * Exit: 0 PASS/success, 1 FAIL/error, 2 usage.
 */

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.tsp.ArchiveTimeStamp;
import org.bouncycastle.asn1.tsp.ArchiveTimeStampChain;
import org.bouncycastle.asn1.tsp.EvidenceRecord;
import org.bouncycastle.asn1.tsp.PartialHashtree;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStamp;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStampGenerator;
import org.bouncycastle.tsp.ers.ERSData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;
import org.bouncycastle.tsp.ers.ERSEvidenceRecordGenerator;
import org.bouncycastle.tsp.ers.ERSFileData;

public class ErsCheck
{
    static DigestCalculatorProvider DCP;

    static class Fail extends Exception
    {
        Fail(String m) { super(m); }
    }

    public static void main(String[] a)
    {
        Security.addProvider(new BouncyCastleProvider());
        int rc;
        try
        {
            DCP = new JcaDigestCalculatorProviderBuilder().setProvider("BC").build();
            List<String> pos = new ArrayList<>();
            String tsa = null, trust = null, outDir = null, alg = null;
            for (int i = 1; i < a.length; i++)
            {
                switch (a[i])
                {
                case "--tsa": tsa = a[++i]; break;
                case "--trust": trust = a[++i]; break;
                case "--out-dir": outDir = a[++i]; break;
                case "--alg": alg = a[++i]; break;
                default: pos.add(a[i]);
                }
            }
            String cmd = a.length > 0 ? a[0] : "";
            if (cmd.equals("verify") && trust != null && pos.size() >= 2 && pos.size() % 2 == 0)
            {
                rc = 0;
                for (int i = 0; i < pos.size(); i += 2)
                {
                    try
                    {
                        System.out.println("PASS ers " + verify(Files.readAllBytes(Paths.get(pos.get(i))), new File(pos.get(i + 1)), trust));
                    }
                    catch (Exception e)
                    {
                        System.out.println("FAIL ers " + pos.get(i) + ": " + e.getMessage());
                        rc = 1;
                    }
                }
            }
            else if (cmd.equals("make") && tsa != null && outDir != null && !pos.isEmpty())
            {
                rc = make(tsa, Paths.get(outDir), algId(alg == null ? "sha256" : alg), pos);
            }
            else if (cmd.equals("renew") && tsa != null && pos.size() == 1)
            {
                Path p = Paths.get(pos.get(0));
                ERSEvidenceRecord er = new ERSEvidenceRecord(Files.readAllBytes(p), DCP);
                TimeStampResponse r = ask(tsa, er.generateTimeStampRenewalRequest(reqGen(), nonce()));
                writeAtomic(p, er.renewTimeStamp(r).getEncoded());
                rc = 0;
            }
            else if (cmd.equals("rehash") && tsa != null && pos.size() == 2)
            {
                Path p = Paths.get(pos.get(0));
                AlgorithmIdentifier id = algId(alg == null ? "sha512" : alg);
                ERSEvidenceRecord er = new ERSEvidenceRecord(Files.readAllBytes(p), DCP);
                ERSFileData d = new ERSFileData(new File(pos.get(1)));
                TimeStampResponse r = ask(tsa, er.generateHashRenewalRequest(DCP.get(id), d, reqGen(), nonce()));
                writeAtomic(p, er.renewHash(DCP.get(id), d, r).getEncoded());
                rc = 0;
            }
            else
            {
                System.err.println("usage: ers-check.sh verify --trust ROOT.pem (FILE.ers DATA)... | make --tsa URL --out-dir DIR [--alg A] FILE... | renew --tsa URL FILE.ers | rehash --tsa URL [--alg A] FILE.ers DATA");
                rc = 2;
            }
        }
        catch (Exception e)
        {
            System.err.println("ers-check: error: " + e);
            rc = 1;
        }
        System.exit(rc);
    }

    static AlgorithmIdentifier algId(String n) throws Fail
    {
        switch (n)
        {
        case "sha256": return new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256);
        case "sha384": return new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha384);
        case "sha512": return new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha512);
        default: throw new Fail("unknown --alg " + n);
        }
    }

    static TimeStampRequestGenerator reqGen()
    {
        TimeStampRequestGenerator g = new TimeStampRequestGenerator();
        g.setCertReq(true);
        return g;
    }

    static BigInteger nonce()
    {
        return new BigInteger(64, new SecureRandom());
    }

    static TimeStampResponse ask(String url, TimeStampRequest req) throws Exception
    {
        byte[] body = req.getEncoded();
        HttpURLConnection c = (HttpURLConnection)new URL(url).openConnection();
        c.setDoOutput(true);
        c.setRequestMethod("POST");
        c.setRequestProperty("Content-Type", "application/timestamp-query");
        try (OutputStream o = c.getOutputStream())
        {
            o.write(body);
        }
        if (c.getResponseCode() != 200)
        {
            throw new Fail("TSA answered HTTP " + c.getResponseCode());
        }
        TimeStampResponse r;
        try (InputStream in = c.getInputStream())
        {
            r = new TimeStampResponse(in.readAllBytes());
        }
        r.validate(req);
        if (r.getTimeStampToken() == null)
        {
            throw new Fail("TSA refused: " + r.getStatusString());
        }
        return r;
    }

    static void writeAtomic(Path p, byte[] data) throws Exception
    {
        Path tmp = Files.createTempFile(p.toAbsolutePath().getParent(), ".ers", ".tmp");
        Files.write(tmp, data);
        Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static int make(String tsa, Path outDir, AlgorithmIdentifier alg, List<String> files) throws Exception
    {
        Files.createDirectories(outDir);
        ERSArchiveTimeStampGenerator gen = new ERSArchiveTimeStampGenerator(DCP.get(alg));
        List<ERSData> leaves = new ArrayList<>();
        for (String f : files)
        {
            leaves.add(new ERSFileData(new File(f)));
        }
        gen.addAllData(leaves);
        TimeStampResponse resp = ask(tsa, gen.generateTimeStampRequest(reqGen(), nonce()));
        List<ERSArchiveTimeStamp> atss = gen.generateArchiveTimeStamps(resp);
        List<ERSEvidenceRecord> ers = new ERSEvidenceRecordGenerator(DCP).generate(atss);
        for (int i = 0; i < files.size(); i++)
        {
            writeAtomic(outDir.resolve(new File(files.get(i)).getName() + ".ers"), ers.get(i).getEncoded());
        }
        return 0;
    }

    // ------------------------------------------------------------------ verification

    static byte[] hash(ASN1ObjectIdentifier alg, byte[]... parts) throws Exception
    {
        DigestCalculator dc = DCP.get(new AlgorithmIdentifier(alg));
        try (OutputStream os = dc.getOutputStream())
        {
            for (byte[] p : parts)
            {
                os.write(p);
            }
        }
        return dc.getDigest();
    }

    /** RFC 4998 4.3: h in the first list, each list's value (single member: itself; else the
     *  hash of the sorted concatenation) joins the next list; the root must be the imprint. */
    static boolean covers(ArchiveTimeStamp ats, ASN1ObjectIdentifier alg, byte[] h) throws Exception
    {
        TimeStampToken t = new TimeStampToken(ats.getTimeStamp());
        if (!t.getTimeStampInfo().getMessageImprintAlgOID().equals(alg))
        {
            return false;
        }
        byte[] imprint = t.getTimeStampInfo().getMessageImprintDigest();
        PartialHashtree[] tree = ats.getReducedHashTree();
        if (tree == null)
        {
            return Arrays.equals(h, imprint);
        }
        List<byte[]> first = new ArrayList<>(Arrays.asList(tree[0].getValues()));
        if (first.stream().noneMatch(x -> Arrays.equals(x, h)))
        {
            return false;
        }
        byte[] cur = value(alg, first);
        for (int i = 1; i < tree.length; i++)
        {
            List<byte[]> l = new ArrayList<>(Arrays.asList(tree[i].getValues()));
            final byte[] c = cur;
            if (l.stream().noneMatch(x -> Arrays.equals(x, c)))
            {
                l.add(cur);
            }
            cur = value(alg, l);
        }
        return Arrays.equals(cur, imprint);
    }

    static byte[] value(ASN1ObjectIdentifier alg, List<byte[]> l) throws Exception
    {
        if (l.size() == 1)
        {
            return l.get(0);
        }
        l.sort(Arrays::compareUnsigned);
        return hash(alg, l.toArray(new byte[0][]));
    }

    static String verify(byte[] enc, File data, String trustPem) throws Exception
    {
        byte[] doc = Files.readAllBytes(data.toPath());
        EvidenceRecord er = EvidenceRecord.getInstance(enc);
        ArchiveTimeStampChain[] chains = er.getArchiveTimeStampSequence().getArchiveTimeStampChains();
        Set<ASN1ObjectIdentifier> listed = new HashSet<>();
        for (AlgorithmIdentifier ai : er.getDigestAlgorithms())
        {
            listed.add(ai.getAlgorithm());
        }
        List<ArchiveTimeStamp> flat = new ArrayList<>();
        for (int c = 0; c < chains.length; c++)
        {
            ArchiveTimeStamp[] atss = chains[c].getArchiveTimestamps();
            ASN1ObjectIdentifier alg = atss[0].getDigestAlgorithmIdentifier().getAlgorithm();
            if (!listed.contains(alg))
            {
                throw new Fail("digestAlgorithms lacks " + alg);
            }
            byte[] h = hash(alg, doc);
            if (c > 0)
            {
                ASN1EncodableVector v = new ASN1EncodableVector();
                for (int k = 0; k < c; k++)
                {
                    v.add(chains[k]);
                }
                h = hash(alg, h, hash(alg, new DERSequence(v).getEncoded(ASN1Encoding.DER)));
            }
            if (!covers(atss[0], alg, h))
            {
                throw new Fail(c == 0 ? "independent: data not covered by the first timestamp"
                                      : "independent: chain " + c + " does not cover data + earlier chains");
            }
            for (int j = 1; j < atss.length; j++)
            {
                if (!atss[j].getDigestAlgorithmIdentifier().getAlgorithm().equals(alg)
                    || !covers(atss[j], alg, hash(alg, atss[j - 1].getTimeStamp().getEncoded(ASN1Encoding.DER))))
                {
                    throw new Fail("independent: chain " + c + " timestamp " + j + " does not cover its predecessor");
                }
            }
            flat.addAll(Arrays.asList(atss));
        }

        // every token: signature + ESS binding + EKU (BC), TSA path to the trust root (PKIX)
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Set<TrustAnchor> anchors = new HashSet<>();
        try (InputStream in = Files.newInputStream(Paths.get(trustPem)))
        {
            for (java.security.cert.Certificate x : cf.generateCertificates(in))
            {
                anchors.add(new TrustAnchor((X509Certificate)x, null));
            }
        }
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter().setProvider("BC");
        Date prev = null;
        X509CertificateHolder lastSigner = null;
        for (int k = 0; k < flat.size(); k++)
        {
            TimeStampToken t = new TimeStampToken(flat.get(k).getTimeStamp());
            Date gen = t.getTimeStampInfo().getGenTime();
            if (prev != null && gen.before(prev))
            {
                throw new Fail("timestamp " + k + " is older than its predecessor");
            }
            prev = gen;
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> m = t.getCertificates().getMatches(t.getSID());
            if (m.isEmpty())
            {
                throw new Fail("timestamp " + k + ": TSA certificate not in the token");
            }
            X509CertificateHolder signer = m.iterator().next();
            try
            {
                t.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(signer));
            }
            catch (Exception e)
            {
                throw new Fail("timestamp " + k + " invalid: " + e.getMessage());
            }
            Date at = k + 1 < flat.size() ? new TimeStampToken(flat.get(k + 1).getTimeStamp()).getTimeStampInfo().getGenTime() : new Date();
            List<X509Certificate> pool = new ArrayList<>();
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> all = t.getCertificates().getMatches(null);
            for (X509CertificateHolder x : all)
            {
                pool.add(conv.getCertificate(x));
            }
            X509CertSelector sel = new X509CertSelector();
            sel.setCertificate(conv.getCertificate(signer));
            PKIXBuilderParameters pp = new PKIXBuilderParameters(anchors, sel);
            pp.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool)));
            pp.setRevocationEnabled(false);
            pp.setDate(at);
            try
            {
                CertPathBuilder.getInstance("PKIX").build(pp);
            }
            catch (Exception e)
            {
                throw new Fail("timestamp " + k + ": TSA not trusted: " + e.getMessage());
            }
            lastSigner = signer;
        }

        // BouncyCastle's own ERS API
        try
        {
            ERSEvidenceRecord ber = new ERSEvidenceRecord(enc, DCP);
            ber.validatePresent(new ERSFileData(data), new Date());
            ber.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(lastSigner));
        }
        catch (Exception e)
        {
            throw new Fail("bc-api: " + e.getMessage());
        }
        return "file=" + data.getName() + " chains=" + chains.length + " timestamps=" + flat.size() + " bc-api=ok independent=ok";
    }
}
