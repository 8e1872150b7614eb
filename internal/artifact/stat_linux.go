//go:build linux

package artifact

import (
	"io/fs"
	"syscall"
)

// sysStat adds inode, device and ctime, which change on any rewrite.
func sysStat(info fs.FileInfo, k *statKey) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	k.Ino = uint64(st.Ino)
	k.Dev = uint64(st.Dev)
	k.Ctime = int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec)
}
