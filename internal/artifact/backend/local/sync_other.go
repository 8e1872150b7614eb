//go:build !linux

package local

import (
	"os"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// syncTemps fsyncs every temporary file of a batch.
func syncTemps(_ string, pending map[backend.Digest]string) error {
	for _, tmp := range pending {
		f, err := os.Open(tmp)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// syncDirs fsyncs every directory a batch renamed into.
func syncDirs(_ string, dirs map[string]bool) error {
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
