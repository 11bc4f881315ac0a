// mod_expect interop client: Java 17, java.net.http.HttpClient with
// expectContinue(true) (mode "httpclient") or HttpURLConnection with a
// fixed-length streaming body (mode "urlconnection").
//
// One PUT of IX_FILE to IX_URL asking for 100-continue (and for the other
// members of IX_EXPECT), over HTTP/1.1 (cleartext or TLS) or h2 over TLS
// (IX_PROTO=h2, HttpClient only). Prints one JSON object: the status, the
// protocol, and when (ms after the request started) the headers went out,
// the 100 came, the body started and the answer ended.
//
// HttpClient has no continue timeout of its own: it waits for the 100 until
// the request times out (4 x IX_TIMEOUT seconds). HttpURLConnection waits 5 s,
// its built-in timeout, then sends the body anyway.

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class Interop {
    static long start;
    // ms after start; null when it did not happen
    static Double tHeaders, t100, tBody, tFinal, tDone;
    static Integer status;
    static String proto, error, note, sentExpect = "";
    // fallback: the continue timeout ran out; hung: stuck after its answer
    static boolean fallback, hung;
    // the status of every response the HttpClient read, 100s included
    static final List<Integer> responses = new CopyOnWriteArrayList<>();

    // What HttpClient logs for each response it reads (the formatted record).
    static final Pattern RESPONSE = Pattern.compile("^RESPONSE: \\(.*\\) (\\d{3}) ");
    static final SimpleFormatter FORMAT = new SimpleFormatter();

    static synchronized Double now() {
        return (System.nanoTime() - start) / 1e6;
    }

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "";
        String client = mode.equals("urlconnection")
                ? "Java HttpURLConnection " + Runtime.version()
                : "Java HttpClient " + Runtime.version();
        try {
            String url = System.getenv("IX_URL");
            Path file = Path.of(System.getenv("IX_FILE"));
            String ca = System.getenv("IX_CA");
            boolean h2 = "h2".equals(System.getenv("IX_PROTO"));
            double timeout = Double.parseDouble(System.getenv("IX_TIMEOUT"));
            List<String> members = new ArrayList<>();
            for (String m : System.getenv("IX_EXPECT").split(",")) {
                m = m.trim();
                if (!m.isEmpty() && !m.equalsIgnoreCase("100-continue")) {
                    members.add(m);
                }
            }
            SSLContext tls = ca == null || ca.isEmpty() ? null : trusting(ca);
            if (mode.equals("httpclient")) {
                httpClient(url, file, tls, h2, timeout, members);
            } else if (mode.equals("urlconnection")) {
                urlConnection(url, file, tls, members);
            } else {
                error = "usage: Interop httpclient|urlconnection";
            }
        } catch (Exception e) {
            error = e.toString();
        }
        System.out.println(json(client));
        System.out.flush();
        // The HttpClient's threads may still wait on a stuck exchange.
        System.exit(0);
    }

    static SSLContext trusting(String caFile) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = new FileInputStream(caFile)) {
            Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(in);
            ks.setCertificateEntry("interop-ca", c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    // -- java.net.http.HttpClient -------------------------------------------

    static void httpClient(String url, Path file, SSLContext tls, boolean h2,
                           double timeout, List<String> members) throws Exception {
        // The client logs each response it reads (the 100 and the final one)
        // when jdk.httpclient.HttpClient.log says so: the only way to see
        // when the 100 came, and that a 417 came before a hang.
        System.setProperty("jdk.httpclient.HttpClient.log", "headers,requests");
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        root.addHandler(new Handler() {
            public void publish(LogRecord r) {
                String msg = FORMAT.formatMessage(r);
                if (System.getenv("IX_DEBUG") != null) {
                    System.err.println(now() + " " + msg);
                }
                if (msg.startsWith("HEADERS: REQUEST HEADERS:")
                        || msg.startsWith("HEADERS: HEADERS FRAME")) {
                    synchronized (Interop.class) {
                        if (tHeaders == null) {
                            tHeaders = now();
                        }
                    }
                }
                Matcher m = RESPONSE.matcher(msg);
                if (m.find()) {
                    responses.add(Integer.valueOf(m.group(1)));
                    Double t = now();
                    if (m.group(1).equals("100")) {
                        synchronized (Interop.class) {
                            if (t100 == null) {
                                t100 = t;
                            }
                        }
                    } else {
                        synchronized (Interop.class) {
                            if (tFinal == null) {
                                tFinal = t;
                            }
                        }
                    }
                }
            }

            public void flush() {
            }

            public void close() {
            }
        });

        HttpClient.Builder b = HttpClient.newBuilder()
                .version(h2 ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1);
        if (tls != null) {
            b.sslContext(tls);
        }
        HttpClient client = b.build();
        HttpRequest.BodyPublisher file_ = HttpRequest.BodyPublishers.ofFile(file);
        // The client has no continue timeout of its own: it waits for the
        // 100 until the request timeout (which covers everything up to the
        // response headers, upload included) ends the exchange.
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url))
                .expectContinue(true)
                .timeout(Duration.ofMillis((long) (4 * timeout * 1000)))
                .header("Content-Type", "application/octet-stream")
                .PUT(new Noting(file_));
        sentExpect = "100-continue";
        for (String m : members) {
            sentExpect += ", " + m;
        }
        // Expect is a restricted header (setting it needs
        // -Djdk.httpclient.allowRestrictedHeaders=expect), and a value of our
        // own replaces the 100-Continue that expectContinue(true) sends while
        // the client still waits for a 100: it must name 100-continue itself.
        if (!members.isEmpty()) {
            rb.header("Expect", sentExpect);
        }
        start = System.nanoTime();
        CompletableFuture<HttpResponse<byte[]>> cf =
                client.sendAsync(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
        // The request timeout no longer applies once the final response
        // headers have come. Every answer here has a body of a few hundred
        // bytes: an exchange that has not completed IX_TIMEOUT seconds after
        // them is stuck.
        HttpResponse<byte[]> r = null;
        while (r == null) {
            try {
                r = cf.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                Double t;
                synchronized (Interop.class) {
                    t = tFinal;
                }
                if (t != null && now() - t > timeout * 1000) {
                    hung = true;
                    return;
                }
            }
        }
        tDone = now();
        status = r.statusCode();
        proto = r.version() == HttpClient.Version.HTTP_2 ? "HTTP/2.0" : "HTTP/1.1";
    }

    /** The file's publisher, noting when the client first asks for the body:
     *  with expectContinue(true) that is once the 100 has come. */
    static final class Noting implements HttpRequest.BodyPublisher {
        final HttpRequest.BodyPublisher inner;

        Noting(HttpRequest.BodyPublisher inner) {
            this.inner = inner;
        }

        public long contentLength() {
            return inner.contentLength();
        }

        public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
            synchronized (Interop.class) {
                if (tBody == null) {
                    tBody = now();
                }
            }
            inner.subscribe(s);
        }
    }

    // -- HttpURLConnection ----------------------------------------------------

    static void urlConnection(String url, Path file, SSLContext tls, List<String> members)
            throws Exception {
        long size = Files.size(file);
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        if (tls != null) {
            ((HttpsURLConnection) c).setSSLSocketFactory(tls.getSocketFactory());
        }
        c.setRequestMethod("PUT");
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(size);
        c.setRequestProperty("Content-Type", "application/octet-stream");
        // HttpURLConnection waits for 100 when the first Expect value is
        // exactly 100-continue; further members go on lines of their own.
        c.setRequestProperty("Expect", "100-continue");
        sentExpect = "100-continue";
        for (String m : members) {
            c.addRequestProperty("Expect", m);
            sentExpect += ", " + m;
        }
        start = System.nanoTime();
        c.connect();
        tHeaders = now();
        OutputStream out;
        try {
            // Sends the headers, then waits for the 100 (up to 5 s).
            out = c.getOutputStream();
        } catch (IOException e) {
            // A final status instead of the 100: "Server rejected operation",
            // the status is kept.
            tDone = now();
            status = c.getResponseCode();
            proto = "HTTP/1.1";
            note = e.toString();
            return;
        }
        tBody = now();
        try (InputStream in = new FileInputStream(file.toFile())) {
            in.transferTo(out);
        }
        out.close();
        status = c.getResponseCode();
        try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
            if (in != null) {
                in.readAllBytes();
            }
        }
        tDone = now();
        proto = "HTTP/1.1";
        // The built-in wait is 5 s; reaching it means the 100 never came.
        fallback = tBody - tHeaders >= 5000;
    }

    // -- output ---------------------------------------------------------------

    static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') {
                b.append('\\').append(ch);
            } else if (ch < 0x20 || ch > 0x7e) {
                b.append(String.format("\\u%04x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        return b.append('"').toString();
    }

    static String num(Double d) {
        return d == null ? "null" : String.format(Locale.ROOT, "%.3f", d);
    }

    static String json(String client) {
        return "{\"client\":" + str(client)
                + ",\"status\":" + (status == null ? "null" : status.toString())
                + ",\"proto\":" + str(proto)
                + ",\"sent_expect\":" + str(sentExpect)
                + ",\"t_headers\":" + num(tHeaders)
                + ",\"t_100\":" + num(t100)
                + ",\"t_body\":" + num(tBody)
                + ",\"t_done\":" + num(tDone)
                + ",\"t_final\":" + num(tFinal)
                + ",\"responses\":" + responses
                + ",\"hung\":" + hung
                + ",\"fallback\":" + fallback
                + ",\"note\":" + str(note)
                + ",\"error\":" + str(error) + "}";
    }
}
