package email

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// smtpd is a tiny in-process SMTP server: EHLO, STARTTLS, AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT. It records what it receives.
type smtpd struct {
	ln       net.Listener
	tlsConf  *tls.Config
	roots    *x509.CertPool
	user     string
	pass     string
	rcptCode string // reply to RCPT, default "250 ok"

	mu       sync.Mutex
	mails    []received
	authLogs []string
	sawTLS   bool
	plainCmd []string // commands seen before TLS
}

type received struct {
	from string
	to   []string
	data string
	tls  bool
	user string
}

func newSMTPD(t *testing.T) *smtpd {
	t.Helper()
	cert, roots := testkit.SelfSigned(t, "localhost", "127.0.0.1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpd{ln: ln, roots: roots, tlsConf: &tls.Config{Certificates: []tls.Certificate{cert}}, rcptCode: "250 ok"}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *smtpd) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpd) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *smtpd) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 localhost ESMTP test")
	var cur received
	isTLS, user := false, ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		if !isTLS {
			s.mu.Lock()
			s.plainCmd = append(s.plainCmd, line)
			s.mu.Unlock()
		}
		switch verb {
		case "EHLO", "HELO":
			ext := []string{"250-localhost"}
			if !isTLS {
				ext = append(ext, "250-STARTTLS")
			} else {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 8BITMIME")
			for _, e := range ext {
				_ = tp.PrintfLine("%s", e)
			}
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tlsConf)
			if tc.Handshake() != nil {
				return
			}
			c, isTLS = tc, true
			tp = textproto.NewConn(tc)
			s.mu.Lock()
			s.sawTLS = true
			s.mu.Unlock()
		case "AUTH":
			user = s.auth(tp, line, isTLS)
			if user == "" {
				continue
			}
		case "MAIL":
			cur = received{from: line, tls: isTLS, user: user}
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			if !strings.HasPrefix(s.rcptCode, "250") {
				_ = tp.PrintfLine("%s", s.rcptCode)
				continue
			}
			cur.to = append(cur.to, line)
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.data = string(data)
			s.mu.Lock()
			s.mails = append(s.mails, cur)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown command")
		}
	}
}

// auth handles AUTH PLAIN with the response inline or on the next line.
func (s *smtpd) auth(tp *textproto.Conn, line string, isTLS bool) string {
	f := strings.Fields(line)
	if len(f) < 2 || strings.ToUpper(f[1]) != "PLAIN" || !isTLS {
		_ = tp.PrintfLine("504 PLAIN over TLS only")
		return ""
	}
	resp := ""
	if len(f) > 2 {
		resp = f[2]
	} else {
		_ = tp.PrintfLine("334 ")
		resp, _ = tp.ReadLine()
	}
	raw, _ := base64.StdEncoding.DecodeString(resp)
	parts := strings.Split(string(raw), "\x00")
	s.mu.Lock()
	s.authLogs = append(s.authLogs, string(raw))
	s.mu.Unlock()
	if len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
		_ = tp.PrintfLine("535 5.7.8 authentication failed")
		return ""
	}
	_ = tp.PrintfLine("235 ok")
	return parts[1]
}

func (s *smtpd) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mails...)
}
