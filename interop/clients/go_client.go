// mod_expect interop client: Go net/http.
//
// One PUT of IX_FILE to IX_URL with "Expect: IX_EXPECT", over HTTP/1.1
// (cleartext or TLS) or h2 over TLS (IX_PROTO=h2), with
// Transport.ExpectContinueTimeout = IX_TIMEOUT seconds. Prints one JSON
// object: the status, the protocol, and when (ms after the request started)
// the headers went out, the 100 came, the body started and the answer ended.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type report struct {
	Client     string   `json:"client"`
	Status     int      `json:"status,omitempty"`
	Proto      string   `json:"proto,omitempty"`
	SentExpect string   `json:"sent_expect"`
	THeaders   *float64 `json:"t_headers"`
	T100       *float64 `json:"t_100"`
	TBody      *float64 `json:"t_body"`
	TDone      *float64 `json:"t_done"`
	Fallback   bool     `json:"fallback"`
	Error      string   `json:"error,omitempty"`
}

var (
	start time.Time
	mu    sync.Mutex
)

func stamp(p **float64) {
	mu.Lock()
	defer mu.Unlock()
	if *p == nil {
		ms := float64(time.Since(start).Microseconds()) / 1000
		*p = &ms
	}
}

// bodyReader notes when the transport first reads the body: with
// "Expect: 100-continue" that is after the 100 (or the timeout).
type bodyReader struct {
	f   *os.File
	rep *report
}

func (b *bodyReader) Read(p []byte) (int, error) {
	stamp(&b.rep.TBody)
	return b.f.Read(p)
}

func main() {
	rep := &report{Client: "Go " + runtime.Version()}
	out := func() {
		json.NewEncoder(os.Stdout).Encode(rep)
	}
	defer out()

	url, file, proto, expect, ca := os.Getenv("IX_URL"), os.Getenv("IX_FILE"),
		os.Getenv("IX_PROTO"), os.Getenv("IX_EXPECT"), os.Getenv("IX_CA")
	timeout, err := strconv.ParseFloat(os.Getenv("IX_TIMEOUT"), 64)
	if err != nil {
		rep.Error = "IX_TIMEOUT: " + err.Error()
		return
	}
	continueTimeout := time.Duration(timeout * float64(time.Second))

	tr := &http.Transport{ExpectContinueTimeout: continueTimeout}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			rep.Error = err.Error()
			return
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	if proto == "h2" {
		tr.ForceAttemptHTTP2 = true
	} else {
		// HTTP/1.1 only, also over TLS: no h2 in ALPN.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	client := &http.Client{Transport: tr, Timeout: 4 * continueTimeout}

	f, err := os.Open(file)
	if err != nil {
		rep.Error = err.Error()
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		rep.Error = err.Error()
		return
	}

	req, err := http.NewRequest("PUT", url, &bodyReader{f: f, rep: rep})
	if err != nil {
		rep.Error = err.Error()
		return
	}
	req.ContentLength = st.Size()
	req.Header.Set("Expect", expect)
	req.Header.Set("Content-Type", "application/octet-stream")
	rep.SentExpect = expect

	trace := &httptrace.ClientTrace{
		WroteHeaders:   func() { stamp(&rep.THeaders) },
		Got100Continue: func() { stamp(&rep.T100) },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))

	start = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		rep.Error = err.Error()
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	stamp(&rep.TDone)
	if err != nil {
		rep.Error = "reading the answer: " + err.Error()
	}
	rep.Status = resp.StatusCode
	rep.Proto = resp.Proto

	// Go does not say when its continue timer fired; it did when the body
	// went out with no 100 before it and at least the timeout after the
	// headers, and the answer was not a final status that came first.
	mu.Lock()
	if rep.TBody != nil && rep.T100 == nil && rep.THeaders != nil &&
		*rep.TBody-*rep.THeaders >= float64(continueTimeout.Milliseconds()) {
		rep.Fallback = true
	}
	mu.Unlock()
}
