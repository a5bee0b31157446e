// Peer driver: Go's crypto/tls, client and server.
// Speaks the JSON-lines protocol of interop/peerlib.py on stdin/stdout.
// Built at run time by harness.py: go build -o build/interop/peer_go interop/peer_go.go
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

type config struct {
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Min         string   `json:"min"`
	Max         string   `json:"max"`
	Cert        string   `json:"cert"`
	Key         string   `json:"key"`
	CA          string   `json:"ca"`
	Verify      bool     `json:"verify"`
	RequireCert bool     `json:"require_cert"`
	Hostname    string   `json:"hostname"`
	SNI         string   `json:"sni"`
	SNIName     string   `json:"sni_name"`
	SNICert     string   `json:"sni_cert"`
	SNIKey      string   `json:"sni_key"`
	ALPN        []string `json:"alpn"`
	Groups      []string `json:"groups"`
	Resume      bool     `json:"resume"`
	Send        *string  `json:"send"`
	Expect      *string  `json:"expect"`
	Timeout     float64  `json:"timeout"`
}

type command struct {
	Cmd    string `json:"cmd"`
	ID     string `json:"id"`
	Config config `json:"config"`
}

type result map[string]interface{}

var outMu sync.Mutex

func emit(v interface{}) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

var versions = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11,
	"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}
var versionNames = map[uint16]string{tls.VersionTLS10: "1.0", tls.VersionTLS11: "1.1",
	tls.VersionTLS12: "1.2", tls.VersionTLS13: "1.3"}
var groups = map[string]tls.CurveID{"x25519": tls.X25519, "secp256r1": tls.CurveP256,
	"secp384r1": tls.CurveP384, "secp521r1": tls.CurveP521}

func allSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}

func timeout(c config) time.Duration {
	if c.Timeout > 0 {
		return time.Duration(c.Timeout * float64(time.Second))
	}
	return 10 * time.Second
}

func pool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(data) {
		return nil, errors.New("no certificates in " + path)
	}
	return p, nil
}

func baseConfig(c config) (*tls.Config, error) {
	cfg := &tls.Config{CipherSuites: allSuites()}
	cfg.MinVersion = tls.VersionTLS10
	cfg.MaxVersion = tls.VersionTLS13
	if v, ok := versions[c.Min]; ok {
		cfg.MinVersion = v
	}
	if v, ok := versions[c.Max]; ok {
		cfg.MaxVersion = v
	}
	for _, g := range c.Groups {
		if id, ok := groups[g]; ok {
			cfg.CurvePreferences = append(cfg.CurvePreferences, id)
		}
	}
	cfg.NextProtos = c.ALPN
	if c.Cert != "" {
		pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func ou(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 || len(cs.PeerCertificates[0].Subject.OrganizationalUnit) == 0 {
		return ""
	}
	return cs.PeerCertificates[0].Subject.OrganizationalUnit[0]
}

func describe(cs tls.ConnectionState, r result) {
	r["version"] = versionNames[cs.Version]
	r["cipher"] = tls.CipherSuiteName(cs.CipherSuite)
	if cs.NegotiatedProtocol != "" {
		r["alpn"] = cs.NegotiatedProtocol
	}
	if o := ou(cs); o != "" {
		r["peer_cert"] = o
	}
	r["resumed"] = cs.DidResume
}

func fail(r result, stage string, err error) result {
	r["status"] = "fail"
	r["stage"] = stage
	r["error"] = err.Error()
	return r
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// ---------------------------------------------------------------- server

type server struct {
	ln   net.Listener
	done chan struct{}
}

var servers = map[string]*server{}
var serversMu sync.Mutex

func startServer(id string, c config) {
	cfg, err := baseConfig(c)
	if err != nil {
		emit(map[string]interface{}{"event": "server_error", "id": id, "error": err.Error()})
		return
	}
	if c.Verify {
		p, err := pool(c.CA)
		if err != nil {
			emit(map[string]interface{}{"event": "server_error", "id": id, "error": err.Error()})
			return
		}
		cfg.ClientCAs = p
		if c.RequireCert {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		} else {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	var sniPair *tls.Certificate
	if c.SNIName != "" {
		pair, err := tls.LoadX509KeyPair(c.SNICert, c.SNIKey)
		if err == nil {
			sniPair = &pair
		}
	}
	var sniMu sync.Mutex
	var lastSNI string
	def := cfg.Certificates
	cfg.Certificates = nil
	cfg.GetCertificate = func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		sniMu.Lock()
		lastSNI = h.ServerName
		sniMu.Unlock()
		if sniPair != nil && h.ServerName == c.SNIName {
			return sniPair, nil
		}
		if len(def) == 0 {
			return nil, errors.New("no certificate")
		}
		return &def[0], nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		emit(map[string]interface{}{"event": "server_error", "id": id, "error": err.Error()})
		return
	}
	s := &server{ln: ln, done: make(chan struct{})}
	serversMu.Lock()
	servers[id] = s
	serversMu.Unlock()
	emit(map[string]interface{}{"event": "listening", "id": id, "port": ln.Addr().(*net.TCPAddr).Port})
	go func() {
		defer close(s.done)
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			sniMu.Lock()
			lastSNI = ""
			sniMu.Unlock()
			r := result{}
			conn := tls.Server(raw, cfg)
			conn.SetDeadline(time.Now().Add(timeout(c)))
			err = conn.Handshake()
			sniMu.Lock()
			if lastSNI != "" {
				r["sni"] = lastSNI
			}
			sniMu.Unlock()
			if err != nil {
				conn.Close()
				emit(map[string]interface{}{"event": "conn", "id": id, "result": fail(r, "handshake", err)})
				continue
			}
			describe(conn.ConnectionState(), r)
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				conn.Close()
				emit(map[string]interface{}{"event": "conn", "id": id, "result": fail(r, "receive", err)})
				continue
			}
			line = strings.TrimRight(line, "\r\n")
			if _, err := conn.Write([]byte(reverse(line) + "\n")); err != nil {
				conn.Close()
				emit(map[string]interface{}{"event": "conn", "id": id, "result": fail(r, "send", err)})
				continue
			}
			conn.CloseWrite()
			conn.Close()
			r["status"] = "ok"
			emit(map[string]interface{}{"event": "conn", "id": id, "result": r})
		}
	}()
}

func stopServer(id string) {
	serversMu.Lock()
	s := servers[id]
	delete(servers, id)
	serversMu.Unlock()
	if s != nil {
		s.ln.Close()
		select {
		case <-s.done:
		case <-time.After(2 * time.Second):
		}
	}
	emit(map[string]interface{}{"event": "stopped", "id": id})
}

// ---------------------------------------------------------------- client

func connectOnce(c config, cfg *tls.Config) result {
	r := result{}
	host := c.Host
	if host == "" {
		host = "127.0.0.1"
	}
	raw, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", host, c.Port), timeout(c))
	if err != nil {
		return fail(r, "connect", err)
	}
	r["connected"] = true
	conn := tls.Client(raw, cfg)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout(c)))
	if err := conn.Handshake(); err != nil {
		return fail(r, "handshake", err)
	}
	describe(conn.ConnectionState(), r)
	msg := "ping"
	if c.Send != nil {
		msg = *c.Send
	}
	if _, err := conn.Write([]byte(msg + "\n")); err != nil {
		return fail(r, "send", err)
	}
	reader := bufio.NewReader(conn)
	line, err := reader.ReadString('\n')
	if err != nil {
		return fail(r, "receive", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if c.Expect != nil && line != *c.Expect {
		return fail(r, "receive", fmt.Errorf("unexpected reply %q", line))
	}
	r["status"] = "ok"
	// The server closes after its reply: io.EOF only after a close_notify.
	if _, err := reader.ReadByte(); err == io.EOF {
		r["close"] = "close_notify"
	} else if err != nil {
		r["close"] = "no close_notify: " + err.Error()
	} else {
		r["close"] = "no close_notify: more data"
	}
	return r
}

func runClient(id string, c config) {
	cfg, err := baseConfig(c)
	if err != nil {
		emit(map[string]interface{}{"event": "result", "id": id, "result": fail(result{}, "setup", err)})
		return
	}
	if c.Verify {
		p, err := pool(c.CA)
		if err != nil {
			emit(map[string]interface{}{"event": "result", "id": id, "result": fail(result{}, "setup", err)})
			return
		}
		cfg.RootCAs = p
		name := c.Hostname
		if name == "" {
			name = "localhost"
		}
		// SNI and the name checked are separate: the check is done by hand.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			opts := x509.VerifyOptions{Roots: p, DNSName: name, Intermediates: x509.NewCertPool()}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	} else {
		cfg.InsecureSkipVerify = true
	}
	cfg.ServerName = c.SNI
	if c.Resume {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	r := connectOnce(c, cfg)
	if c.Resume && r["status"] == "ok" {
		r = connectOnce(c, cfg)
	}
	emit(map[string]interface{}{"event": "result", "id": id, "result": r})
}

func hello() {
	var c12, c13 []string
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		is13 := len(s.SupportedVersions) == 1 && s.SupportedVersions[0] == tls.VersionTLS13
		if is13 {
			c13 = append(c13, s.Name)
		} else {
			c12 = append(c12, s.Name)
		}
	}
	emit(map[string]interface{}{
		"event": "hello", "name": "go", "version": "Go " + runtime.Version() + " crypto/tls",
		"caps": map[string]interface{}{
			"versions":            []string{"1.0", "1.1", "1.2", "1.3"},
			"ciphers12":           c12,
			"ciphers13":           c13,
			"groups":              []string{"x25519", "secp256r1", "secp384r1", "secp521r1"},
			"sigs":                []string{"rsa", "ecdsa", "ed25519"},
			"dhe_server":          false,
			"long_lines":          true,
			"server_close_notify": true,
			// Go lists supported_versions even when it stops at TLS 1.2
			"always_supported_versions": true,
			"alpn_mismatch":             "alert",
			"client_resume":             true,
			"server_reports":            []string{"version", "cipher", "alpn", "peer_cert", "sni", "resumed"},
			"client_reports":            []string{"version", "cipher", "alpn", "peer_cert", "resumed"},
			"sni_switch":                true,
		},
	})
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var cmd command
		if err := json.Unmarshal([]byte(line), &cmd); err != nil {
			emit(map[string]interface{}{"event": "error", "error": "bad command: " + err.Error()})
			continue
		}
		switch cmd.Cmd {
		case "hello":
			hello()
		case "server":
			startServer(cmd.ID, cmd.Config)
		case "stop":
			stopServer(cmd.ID)
		case "client":
			runClient(cmd.ID, cmd.Config)
		case "quit":
			return
		default:
			emit(map[string]interface{}{"event": "error", "error": "unknown command " + cmd.Cmd})
		}
	}
}
