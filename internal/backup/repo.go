package backup

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
)

// Repo is an open backup repository. Its methods may be called from several
// goroutines, but operations that need the repository lock exclusively
// (Create, Forget, Prune) fail with ErrLocked while any other operation
// runs, in this process or another.
type Repo struct {
	dir       string
	id        string
	objects   *local.Store
	snapshots *local.Store

	mu  sync.RWMutex
	key []byte // the data key; nil once closed
}

// Init creates a repository in dir, which must not exist or be empty, and
// seals a fresh data key under pass with the argon2id costs kdf.
func Init(ctx context.Context, dir string, pass []byte, kdf KDFParams) (*Repo, error) {
	if err := checkInit(ctx, dir, pass, kdf); err != nil {
		return nil, err
	}
	c, dataKey, err := newConfig(pass, kdf)
	if err != nil {
		return nil, fmt.Errorf("init backup repository: %w", err)
	}
	var r *Repo
	err = os.MkdirAll(dir, 0o700)
	if err == nil {
		r, err = openStores(dir, c.ID, dataKey)
	}
	if err == nil {
		err = writeConfig(dir, c)
	}
	if err != nil {
		wipe(dataKey)
		return nil, fmt.Errorf("init backup repository %s: %w", dir, err)
	}
	return r, nil
}

// checkInit checks Init's arguments before anything is written.
func checkInit(ctx context.Context, dir string, pass []byte, kdf KDFParams) error {
	if len(pass) == 0 {
		return errors.New("init backup repository: the passphrase is empty")
	}
	if err := kdf.valid(); err != nil {
		return fmt.Errorf("init backup repository: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return checkEmptyDir(dir)
}

// checkEmptyDir returns ErrExists unless dir is missing or an empty
// directory.
func checkEmptyDir(dir string) error {
	names, err := readDirNames(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || len(names) > 0 {
		return fmt.Errorf("init backup repository %s: %w", dir, ErrExists)
	}
	return nil
}

// newConfig makes a repository id, a data key and its sealing under pass.
func newConfig(pass []byte, kdf KDFParams) (config, []byte, error) {
	id, err := randomBytes(repoIDSize)
	if err != nil {
		return config{}, nil, err
	}
	c := config{Format: formatVersion, ID: hex.EncodeToString(id), KDF: kdf, Created: time.Now().UTC().Truncate(time.Second)}
	if c.Salt, err = randomBytes(saltSize); err != nil {
		return config{}, nil, err
	}
	kek, err := deriveKEK(pass, c.Salt, kdf)
	if err != nil {
		return config{}, nil, err
	}
	defer wipe(kek)
	dataKey, err := randomBytes(keySize)
	if err != nil {
		return config{}, nil, err
	}
	if c.Key.Nonce, c.Key.Sealed, err = wrapKey(kek, dataKey, c.ID); err != nil {
		wipe(dataKey)
		return config{}, nil, err
	}
	return c, dataKey, nil
}

// Open opens the repository in dir with pass. A directory without a
// repository is ErrNotRepo, a passphrase that does not fit ErrWrongKey.
func Open(ctx context.Context, dir string, pass []byte) (*Repo, error) {
	c, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kek, err := deriveKEK(pass, c.Salt, c.KDF)
	if err != nil {
		return nil, fmt.Errorf("open backup repository: %w", err)
	}
	dataKey, err := unwrapKey(kek, c.Key.Nonce, c.Key.Sealed, c.ID)
	wipe(kek)
	if err != nil {
		return nil, fmt.Errorf("open backup repository %s: %w", dir, err)
	}
	r, err := openStores(dir, c.ID, dataKey)
	if err != nil {
		wipe(dataKey)
		return nil, fmt.Errorf("open backup repository %s: %w", dir, err)
	}
	return r, nil
}

// openStores opens (creating if needed) the two blob stores.
func openStores(dir, id string, dataKey []byte) (*Repo, error) {
	objects, err := local.New(filepath.Join(dir, "objects"))
	if err != nil {
		return nil, err
	}
	snapshots, err := local.New(filepath.Join(dir, "snapshots"))
	if err != nil {
		return nil, err
	}
	return &Repo{dir: dir, id: id, objects: objects, snapshots: snapshots, key: dataKey}, nil
}

// SnapshotFile is the file that holds snapshot id (a full id) in the
// repository at dir: the one to delete to remove a damaged snapshot, as
// no command forgets a single snapshot (docs/backup.md#a-damaged-snapshot).
func SnapshotFile(dir, id string) string {
	return filepath.Join(dir, "snapshots", backend.Algorithm, id[:min(2, len(id))], id)
}

// Close forgets the data key. Further calls on r fail.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	wipe(r.key)
	r.key = nil
	return nil
}

// ID returns the repository's random id, in hex.
func (r *Repo) ID() string { return r.id }

// errClosed is returned by every operation after Close.
var errClosed = errors.New("backup repository is closed")

// begin takes the repository lock (exclusive or shared) and holds r open
// until the returned function is called.
func (r *Repo) begin(exclusive bool) (func(), error) {
	r.mu.RLock()
	if r.key == nil {
		r.mu.RUnlock()
		return nil, errClosed
	}
	unlock, err := lockRepo(r.dir, exclusive)
	if err != nil {
		r.mu.RUnlock()
		return nil, err
	}
	return func() { unlock(); r.mu.RUnlock() }, nil
}
