// Peer driver: Java's JSSE (SunJSSE), client and server.
// Speaks the JSON-lines protocol of interop/peerlib.py on stdin/stdout.
// Compiled at run time by harness.py: javac -d build/interop/java interop/Peer.java
//
// TLS 1.0/1.1 and the legacy suites are disabled by default in java.security;
// this driver clears jdk.tls.disabledAlgorithms first, so the oracle sees
// everything the provider implements.

import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.*;
import javax.net.ssl.*;

public class Peer {
    static final Object OUT = new Object();
    static final Map<String, ServerSocket> SERVERS = new HashMap<>();
    static final String[] ALL_VERSIONS = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    static final List<String> ORDER = Arrays.asList("1.0", "1.1", "1.2", "1.3");

    // ------------------------------------------------------------ JSON

    static Object parse(String s) { int[] pos = {0}; return value(s, pos); }

    static void ws(String s, int[] p) { while (p[0] < s.length() && Character.isWhitespace(s.charAt(p[0]))) p[0]++; }

    static Object value(String s, int[] p) {
        ws(s, p);
        char c = s.charAt(p[0]);
        if (c == '{') {
            Map<String, Object> m = new LinkedHashMap<>();
            p[0]++; ws(s, p);
            if (s.charAt(p[0]) == '}') { p[0]++; return m; }
            while (true) {
                ws(s, p);
                String k = (String) value(s, p);
                ws(s, p); p[0]++; // ':'
                m.put(k, value(s, p));
                ws(s, p);
                if (s.charAt(p[0]++) == '}') return m;
            }
        }
        if (c == '[') {
            List<Object> l = new ArrayList<>();
            p[0]++; ws(s, p);
            if (s.charAt(p[0]) == ']') { p[0]++; return l; }
            while (true) {
                l.add(value(s, p));
                ws(s, p);
                if (s.charAt(p[0]++) == ']') return l;
            }
        }
        if (c == '"') {
            StringBuilder b = new StringBuilder();
            p[0]++;
            while (true) {
                char ch = s.charAt(p[0]++);
                if (ch == '"') return b.toString();
                if (ch == '\\') {
                    char e = s.charAt(p[0]++);
                    switch (e) {
                        case 'n': b.append('\n'); break;
                        case 't': b.append('\t'); break;
                        case 'r': b.append('\r'); break;
                        case 'b': b.append('\b'); break;
                        case 'f': b.append('\f'); break;
                        case 'u': b.append((char) Integer.parseInt(s.substring(p[0], p[0] + 4), 16)); p[0] += 4; break;
                        default: b.append(e);
                    }
                } else b.append(ch);
            }
        }
        if (s.startsWith("true", p[0])) { p[0] += 4; return Boolean.TRUE; }
        if (s.startsWith("false", p[0])) { p[0] += 5; return Boolean.FALSE; }
        if (s.startsWith("null", p[0])) { p[0] += 4; return null; }
        int start = p[0];
        while (p[0] < s.length() && "+-0123456789.eE".indexOf(s.charAt(p[0])) >= 0) p[0]++;
        return Double.parseDouble(s.substring(start, p[0]));
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String json(Object o) {
        if (o == null) return "null";
        if (o instanceof String) return quote((String) o);
        if (o instanceof Boolean || o instanceof Integer || o instanceof Long) return o.toString();
        if (o instanceof Number) return o.toString();
        if (o instanceof Map) {
            StringBuilder b = new StringBuilder("{");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                if (b.length() > 1) b.append(',');
                b.append(quote(e.getKey().toString())).append(':').append(json(e.getValue()));
            }
            return b.append('}').toString();
        }
        if (o instanceof Collection) {
            StringBuilder b = new StringBuilder("[");
            for (Object v : (Collection<?>) o) {
                if (b.length() > 1) b.append(',');
                b.append(json(v));
            }
            return b.append(']').toString();
        }
        return quote(o.toString());
    }

    static void emit(Map<String, Object> m) {
        synchronized (OUT) {
            System.out.println(json(m));
            System.out.flush();
        }
    }

    static Map<String, Object> event(String name, String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", name);
        if (id != null) m.put("id", id);
        return m;
    }

    // ------------------------------------------------------------ config

    @SuppressWarnings("unchecked")
    static class Cfg {
        final Map<String, Object> m;
        Cfg(Map<String, Object> m) { this.m = m == null ? new HashMap<>() : m; }
        String str(String k) { Object v = m.get(k); return v == null ? null : v.toString(); }
        boolean flag(String k) { return Boolean.TRUE.equals(m.get(k)); }
        int num(String k, int d) { Object v = m.get(k); return v instanceof Number ? ((Number) v).intValue() : d; }
        List<String> list(String k) {
            Object v = m.get(k);
            List<String> out = new ArrayList<>();
            if (v instanceof List) for (Object o : (List<Object>) v) out.add(o.toString());
            return out;
        }
    }

    static List<X509Certificate> certs(String path) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (InputStream in = new FileInputStream(path)) {
            List<X509Certificate> out = new ArrayList<>();
            for (java.security.cert.Certificate c : cf.generateCertificates(in)) out.add((X509Certificate) c);
            return out;
        }
    }

    static PrivateKey key(String path, String algHint) throws Exception {
        String pem = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.US_ASCII);
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(b64);
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String alg : new String[]{algHint, "RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            if (alg == null) continue;
            try { return KeyFactory.getInstance(alg).generatePrivate(spec); } catch (Exception e) { /* next */ }
        }
        throw new Exception("cannot read key " + path);
    }

    static KeyManager[] keyManagers(String certPath, String keyPath) throws Exception {
        if (certPath == null) return null;
        List<X509Certificate> chain = certs(certPath);
        PrivateKey k = key(keyPath, chain.get(0).getPublicKey().getAlgorithm());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "interop".toCharArray();
        ks.setKeyEntry("id", k, pw, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(ks, pw);
        return kmf.getKeyManagers();
    }

    // Server certificate checks made by clients: a resumed session makes
    // none, which is how a resumption is told apart (JSSE has no flag).
    static final java.util.concurrent.atomic.AtomicInteger SERVER_CHECKS =
            new java.util.concurrent.atomic.AtomicInteger();

    static TrustManager[] trustManagers(Cfg c) throws Exception {
        X509ExtendedTrustManager inner = null;
        if (c.flag("verify")) {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            for (X509Certificate ca : certs(c.str("ca"))) ts.setCertificateEntry("ca" + (i++), ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager) inner = (X509ExtendedTrustManager) tm;
            }
        }
        final X509ExtendedTrustManager t = inner;
        return new TrustManager[]{new X509ExtendedTrustManager() {
            public void checkClientTrusted(X509Certificate[] ch, String a) throws CertificateException {
                if (t != null) t.checkClientTrusted(ch, a);
            }
            public void checkServerTrusted(X509Certificate[] ch, String a) throws CertificateException {
                SERVER_CHECKS.incrementAndGet();
                if (t != null) t.checkServerTrusted(ch, a);
            }
            public void checkClientTrusted(X509Certificate[] ch, String a, Socket s) throws CertificateException {
                if (t != null) t.checkClientTrusted(ch, a, s);
            }
            public void checkServerTrusted(X509Certificate[] ch, String a, Socket s) throws CertificateException {
                SERVER_CHECKS.incrementAndGet();
                if (t != null) t.checkServerTrusted(ch, a, s);
            }
            public void checkClientTrusted(X509Certificate[] ch, String a, SSLEngine e) throws CertificateException {
                if (t != null) t.checkClientTrusted(ch, a, e);
            }
            public void checkServerTrusted(X509Certificate[] ch, String a, SSLEngine e) throws CertificateException {
                SERVER_CHECKS.incrementAndGet();
                if (t != null) t.checkServerTrusted(ch, a, e);
            }
            public X509Certificate[] getAcceptedIssuers() {
                return t != null ? t.getAcceptedIssuers() : new X509Certificate[0];
            }
        }};
    }

    static String[] versions(Cfg c) {
        int lo = ORDER.indexOf(c.str("min") == null ? "1.0" : c.str("min"));
        int hi = ORDER.indexOf(c.str("max") == null ? "1.3" : c.str("max"));
        return Arrays.copyOfRange(ALL_VERSIONS, lo, hi + 1);
    }

    static String[] suites(SSLContext ctx) {
        List<String> out = new ArrayList<>();
        for (String s : ctx.getSupportedSSLParameters().getCipherSuites()) {
            if (s.contains("_anon_") || s.contains("_NULL_") || s.contains("KRB5")) continue;
            out.add(s);
        }
        return out.toArray(new String[0]);
    }

    static void configure(SSLSocket s, SSLContext ctx, Cfg c) {
        SSLParameters p = s.getSSLParameters();
        p.setProtocols(versions(c));
        p.setCipherSuites(suites(ctx));
        List<String> alpn = c.list("alpn");
        if (!alpn.isEmpty()) p.setApplicationProtocols(alpn.toArray(new String[0]));
        List<String> groups = c.list("groups");
        if (!groups.isEmpty()) System.setProperty("jdk.tls.namedGroups", String.join(",", groups));
        s.setSSLParameters(p);
    }

    static String version(String v) {
        switch (v) {
            case "TLSv1": return "1.0";
            case "TLSv1.1": return "1.1";
            case "TLSv1.2": return "1.2";
            case "TLSv1.3": return "1.3";
            default: return v;
        }
    }

    static String ou(java.security.cert.Certificate[] chain) {
        if (chain == null || chain.length == 0) return null;
        String dn = ((X509Certificate) chain[0]).getSubjectX500Principal().getName();
        for (String part : dn.split(",")) {
            if (part.startsWith("OU=")) return part.substring(3);
        }
        return null;
    }

    static void describe(SSLSocket s, Map<String, Object> r) {
        SSLSession sess = s.getSession();
        r.put("version", version(sess.getProtocol()));
        r.put("cipher", sess.getCipherSuite());
        String ap = s.getApplicationProtocol();
        if (ap != null && !ap.isEmpty()) r.put("alpn", ap);
        try { String o = ou(sess.getPeerCertificates()); if (o != null) r.put("peer_cert", o); }
        catch (SSLPeerUnverifiedException e) { /* no peer certificate */ }
    }

    static String errorText(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (b.length() > 0) b.append(" <- ");
            b.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
            if (t.getCause() == t) break;
        }
        return b.toString();
    }

    static Map<String, Object> fail(Map<String, Object> r, String stage, Throwable e) {
        r.put("status", "fail");
        r.put("stage", stage);
        r.put("error", errorText(e));
        return r;
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int ch;
        while ((ch = in.read()) != -1) {
            if (ch == '\n') return b.toString("UTF-8").replaceAll("\r$", "");
            b.write(ch);
        }
        return null;
    }

    // ------------------------------------------------------------ server

    static void startServer(String id, Cfg c) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            KeyManager[] kms = keyManagers(c.str("cert"), c.str("key"));
            ctx.init(kms, trustManagers(c), null);
            SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
                    .createServerSocket(0, 16, InetAddress.getByName("127.0.0.1"));
            synchronized (SERVERS) { SERVERS.put(id, ss); }
            Map<String, Object> ev = event("listening", id);
            ev.put("port", ss.getLocalPort());
            emit(ev);
            Thread t = new Thread(() -> serveLoop(id, c, ctx, ss));
            t.setDaemon(true);
            t.start();
        } catch (Exception e) {
            Map<String, Object> ev = event("server_error", id);
            ev.put("error", errorText(e));
            emit(ev);
        }
    }

    static void serveLoop(String id, Cfg c, SSLContext ctx, SSLServerSocket ss) {
        while (true) {
            SSLSocket s;
            try { s = (SSLSocket) ss.accept(); } catch (IOException e) { return; }
            Map<String, Object> r = new LinkedHashMap<>();
            try {
                s.setSoTimeout(c.num("timeout", 10) * 1000);
                configure(s, ctx, c);
                if (c.flag("verify")) {
                    if (c.flag("require_cert")) s.setNeedClientAuth(true); else s.setWantClientAuth(true);
                }
                try { s.startHandshake(); } catch (Exception e) { fail(r, "handshake", e); continue; }
                describe(s, r);
                SSLSession sess = s.getSession();
                if (sess instanceof ExtendedSSLSession) {
                    for (SNIServerName n : ((ExtendedSSLSession) sess).getRequestedServerNames()) {
                        if (n instanceof SNIHostName) r.put("sni", ((SNIHostName) n).getAsciiName());
                    }
                }
                String line;
                try { line = readLine(s.getInputStream()); } catch (Exception e) { fail(r, "receive", e); continue; }
                if (line == null) { r.put("status", "fail"); r.put("stage", "receive"); r.put("error", "closed before a line"); continue; }
                try {
                    OutputStream out = s.getOutputStream();
                    out.write((new StringBuilder(line).reverse() + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (Exception e) { fail(r, "send", e); continue; }
                r.put("status", "ok");
            } catch (Exception e) {
                fail(r, "io", e);
            } finally {
                try { s.close(); } catch (IOException e) { /* closing */ }
                Map<String, Object> ev = event("conn", id);
                ev.put("result", r);
                emit(ev);
            }
        }
    }

    static void stopServer(String id) {
        ServerSocket ss;
        synchronized (SERVERS) { ss = SERVERS.remove(id); }
        if (ss != null) try { ss.close(); } catch (IOException e) { /* closing */ }
        emit(event("stopped", id));
    }

    // ------------------------------------------------------------ client

    static Map<String, Object> connectOnce(Cfg c, SSLContext ctx, byte[][] lastId) {
        Map<String, Object> r = new LinkedHashMap<>();
        String host = c.str("host") == null ? "127.0.0.1" : c.str("host");
        Socket raw = new Socket();
        try {
            raw.connect(new InetSocketAddress(host, c.num("port", 0)), c.num("timeout", 10) * 1000);
            raw.setSoTimeout(c.num("timeout", 10) * 1000);
        } catch (Exception e) { return fail(r, "connect", e); }
        r.put("connected", true);
        String name = c.str("hostname") == null ? "localhost" : c.str("hostname");
        SSLSocket s = null;
        try {
            s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, name, c.num("port", 0), true);
            configure(s, ctx, c);
            SSLParameters p = s.getSSLParameters();
            if (c.flag("verify")) p.setEndpointIdentificationAlgorithm("HTTPS");
            if (c.str("sni") != null) p.setServerNames(Collections.singletonList(new SNIHostName(c.str("sni"))));
            else p.setServerNames(Collections.emptyList());
            s.setSSLParameters(p);
            int checks = SERVER_CHECKS.get();
            try { s.startHandshake(); } catch (Exception e) { return fail(r, "handshake", e); }
            describe(s, r);
            r.put("resumed", lastId[0] != null && SERVER_CHECKS.get() == checks);
            String send = c.str("send") == null ? "ping" : c.str("send");
            OutputStream out = s.getOutputStream();
            try {
                out.write((send + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (Exception e) { return fail(r, "send", e); }
            String line;
            try { line = readLine(s.getInputStream()); } catch (Exception e) { return fail(r, "receive", e); }
            lastId[0] = new byte[]{1};
            if (line == null) { r.put("status", "fail"); r.put("stage", "receive"); r.put("error", "closed before a line"); return r; }
            if (c.str("expect") != null && !line.equals(c.str("expect"))) {
                r.put("status", "fail"); r.put("stage", "receive"); r.put("error", "unexpected reply " + line); return r;
            }
            r.put("status", "ok");
            return r;
        } catch (Exception e) {
            return fail(r, "setup", e);
        } finally {
            try { if (s != null) s.close(); else raw.close(); } catch (IOException e) { /* closing */ }
        }
    }

    static void runClient(String id, Cfg c) {
        Map<String, Object> r;
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers(c.str("cert"), c.str("key")), trustManagers(c), null);
            byte[][] lastId = {null};
            r = connectOnce(c, ctx, lastId);
            if (c.flag("resume") && "ok".equals(r.get("status"))) r = connectOnce(c, ctx, lastId);
        } catch (Exception e) {
            r = fail(new LinkedHashMap<>(), "setup", e);
        }
        Map<String, Object> ev = event("result", id);
        ev.put("result", r);
        emit(ev);
    }

    static void hello() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        List<String> c12 = new ArrayList<>(), c13 = new ArrayList<>();
        for (String s : suites(ctx)) {
            if (s.startsWith("TLS_AES_") || s.startsWith("TLS_CHACHA20_")) c13.add(s);
            else if (!s.startsWith("TLS_EMPTY")) c12.add(s);
        }
        Map<String, Object> caps = new LinkedHashMap<>();
        caps.put("versions", Arrays.asList("1.0", "1.1", "1.2", "1.3"));
        caps.put("ciphers12", c12);
        caps.put("ciphers13", c13);
        caps.put("groups", Arrays.asList("x25519", "x448", "secp256r1", "secp384r1", "secp521r1",
                "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"));
        caps.put("sigs", Arrays.asList("rsa", "ecdsa", "ed25519"));
        caps.put("dhe_server", true);
        caps.put("long_lines", true);
        caps.put("server_close_notify", true);
        caps.put("always_supported_versions", true);
        caps.put("alpn_mismatch", "alert");
        caps.put("client_resume", true);
        caps.put("server_reports", Arrays.asList("version", "cipher", "alpn", "peer_cert", "sni"));
        caps.put("client_reports", Arrays.asList("version", "cipher", "alpn", "peer_cert", "resumed"));
        caps.put("sni_switch", false);
        Map<String, Object> ev = event("hello", null);
        ev.put("name", "java");
        ev.put("version", "Java " + System.getProperty("java.version") + " JSSE ("
                + System.getProperty("java.vm.name") + ")");
        ev.put("caps", caps);
        emit(ev);
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Security.setProperty("jdk.tls.disabledAlgorithms", "");
        Security.setProperty("jdk.certpath.disabledAlgorithms", "");
        System.setProperty("jdk.tls.namedGroups",
                "x25519,x448,secp256r1,secp384r1,secp521r1,ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) continue;
            Map<String, Object> msg;
            try { msg = (Map<String, Object>) parse(line); } catch (Exception e) {
                Map<String, Object> ev = event("error", null); ev.put("error", "bad command"); emit(ev); continue;
            }
            String cmd = String.valueOf(msg.get("cmd"));
            String id = msg.get("id") == null ? null : msg.get("id").toString();
            Cfg cfg = new Cfg((Map<String, Object>) msg.get("config"));
            switch (cmd) {
                case "hello": hello(); break;
                case "server": startServer(id, cfg); break;
                case "stop": stopServer(id); break;
                case "client": runClient(id, cfg); break;
                case "quit": System.exit(0); break;
                default: { Map<String, Object> ev = event("error", null); ev.put("error", "unknown " + cmd); emit(ev); }
            }
        }
        System.exit(0);
    }
}
