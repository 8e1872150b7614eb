package certs

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// FileCheckEvery is how often a FileCert looks at its files.
const FileCheckEvery = 10 * time.Second

// FileCert is a certificate and key from PEM files (--edge-tls-cert,
// --edge-tls-key) that follows the files: certbot, cert-manager or an
// operator replacing them is picked up within FileCheckEvery, at the next
// handshake, without a restart. A new pair that does not load (written
// half-way, or a key that does not match) leaves the previous one in
// service and is logged once until the files change again. Safe for
// concurrent use; a handshake between checks costs one atomic load.
type FileCert struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	cur  atomic.Pointer[tls.Certificate]
	next atomic.Int64 // unix nanoseconds of the next look at the files

	mu    sync.Mutex // one reload at a time
	stamp [2]fileStamp
	bad   [2]fileStamp // the files of the last pair that failed to load
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

// LoadFileCert loads the pair; an error names the flags and the problem.
// A key file every user may read is served, with a warning.
func LoadFileCert(certFile, keyFile string, log *slog.Logger) (*FileCert, error) {
	if log == nil {
		log = slog.Default()
	}
	f := &FileCert{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	st, err := f.stamps()
	if err != nil {
		return nil, err
	}
	c, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	f.cur.Store(c)
	f.stamp = st
	f.next.Store(f.now().Add(FileCheckEvery).UnixNano())
	warnReadableKey(keyFile, log)
	return f, nil
}

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--edge-tls-cert/--edge-tls-key: %w", err)
	}
	return &c, nil // Go fills Leaf since 1.23
}

// Certificate returns the pair in service, first loading the files again
// when they changed since the last look (at most every FileCheckEvery).
func (f *FileCert) Certificate() *tls.Certificate {
	if f.now().UnixNano() >= f.next.Load() {
		f.check()
	}
	return f.cur.Load()
}

// ChooseFile is a GetCertificate over several certificate files: the one
// covering the name the client asks for (SNI), else the first (a client
// that names none, or a name none covers, as a single file served every
// name). Each file's certificate is read as it is now (followed on renewal).
func ChooseFile(fs []*FileCert) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c := Covering(FileCerts(fs), hello.ServerName); c != nil {
			return c, nil
		}
		return fs[0].Certificate(), nil
	}
}

// GetCertificate is Certificate for tls.Config.
func (f *FileCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.Certificate(), nil
}

// check loads the pair again when a file changed.
func (f *FileCert) check() {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if now.UnixNano() < f.next.Load() {
		return // another handshake just looked
	}
	f.next.Store(now.Add(FileCheckEvery).UnixNano())
	st, err := f.stamps()
	if err != nil || st == f.stamp || st == f.bad {
		if err != nil && st != f.bad {
			f.log.Error("edge: the TLS certificate files cannot be read; serving the previous certificate", "err", err)
			f.bad = st
		}
		return
	}
	c, err := loadPair(f.certFile, f.keyFile)
	if err != nil {
		f.log.Error("edge: the changed TLS certificate files do not load; serving the previous certificate", "err", err)
		f.bad = st
		return
	}
	f.cur.Store(c)
	f.stamp = st
	f.log.Info("edge: TLS certificate reloaded", "file", f.certFile, "subject", c.Leaf.Subject.String(),
		"not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	warnReadableKey(f.keyFile, f.log)
}

// stamps returns the size and modification time of both files.
func (f *FileCert) stamps() ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, p := range []string{f.certFile, f.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return st, fmt.Errorf("--edge-tls-cert/--edge-tls-key: %w", err)
		}
		st[i] = fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	}
	return st, nil
}
