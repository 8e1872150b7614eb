//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Available returns the kernel's Landlock ABI version, or an error
// wrapping ErrUnsupported that says why processes cannot be confined.
func Available() (int, error) { return probe() }

var probe = sync.OnceValues(func() (int, error) {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	switch {
	case e == unix.ENOSYS:
		return 0, fmt.Errorf("%w: this kernel has no Landlock (Linux 5.19 or later built with CONFIG_SECURITY_LANDLOCK)", ErrUnsupported)
	case e == unix.EOPNOTSUPP:
		return 0, fmt.Errorf("%w: Landlock is off in this kernel (add landlock to the lsm= boot parameter)", ErrUnsupported)
	case e != 0:
		return 0, fmt.Errorf("%w: Landlock: %v", ErrUnsupported, e)
	case v < 2:
		return int(v), fmt.Errorf("%w: Landlock ABI %d (Linux before 5.19) cannot let a build move files between folders", ErrUnsupported, v)
	}
	return int(v), nil
})

// Start starts cmd confined by p. Only the thread that starts it is
// confined (and then ends): the server keeps its own access.
func Start(cmd *exec.Cmd, p Policy) error {
	abi, err := Available()
	if err != nil {
		return err
	}
	rules, guarded, err := p.rules()
	if err != nil {
		return err
	}
	fd, err := ruleset(abi, rules, fileIDs(guarded))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return startConfined(cmd, fd)
}

// startConfined starts cmd from a thread it confines first. Never the
// main thread: /proc/<pid> and signals to the server are checked against
// it, so a confined main thread would open the server to its steps.
func startConfined(cmd *exec.Cmd, fd int) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			done <- startConfined(cmd, fd) // holding this thread, so not on it
			runtime.UnlockOSThread()
			return
		}
		// Never unlocked: Go ends a thread whose locked goroutine returns,
		// so the confined thread never runs the server's code again. New
		// threads are not cloned from a locked one (runtime.newm).
		if err := restrictThread(fd); err != nil {
			done <- err
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}

// Rights of Landlock's ABIs: what a ruleset handles, and what a rule on
// a file (not a folder) may allow.
const (
	rightsV1   = unix.LANDLOCK_ACCESS_FS_MAKE_SYM<<1 - 1
	fileRights = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_READ_FILE |
		unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	readRights = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
)

// handled is every file system right the ABI knows: all of them are
// denied except where a rule allows them.
func handled(abi int) uint64 {
	a := uint64(rightsV1)
	if abi >= 2 {
		a |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		a |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		a |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return a
}

// ruleset builds a Landlock ruleset of rules, and from ABI 6 scopes
// signals and abstract Unix sockets to the sandbox.
func ruleset(abi int, rules []rule, guarded map[fileID]bool) (int, error) {
	attr := unix.LandlockRulesetAttr{Handled_access_fs: handled(abi)}
	size := 8 // the fields of each ABI: fs from 1, net from 4, scoped from 6
	if abi >= 4 {
		size = 16
	}
	if abi >= 6 {
		attr.Scoped = unix.LANDLOCK_SCOPE_SIGNAL | unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
		size = 24
	}
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), uintptr(size), 0)
	if e != 0 {
		return -1, fmt.Errorf("sandbox: create a Landlock ruleset: %w", e)
	}
	folders.Lock() // the cached descriptors stay open while rules are added with them
	defer folders.Unlock()
	for _, r := range rules {
		add := addRule
		if r.folder {
			add = addFolder
		}
		if err := add(int(fd), handled(abi), r, guarded); err != nil {
			unix.Close(int(fd))
			return -1, err
		}
	}
	return int(fd), nil
}

// addRule allows r's access beneath r.path. A path gone since it was
// resolved is skipped, and so is one that is a guarded file or folder
// under another name.
func addRule(fd int, handled uint64, r rule, guarded map[fileID]bool) error {
	pfd, err := unix.Open(r.path, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", r.path, err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return fmt.Errorf("sandbox: %s: %w", r.path, err)
	}
	if guarded[fileID{uint64(st.Dev), st.Ino}] {
		return nil // e.g. the data dir bind-mounted at r.path, or a hard link to a key file
	}
	return allow(fd, pfd, rights(handled, r.access, st.Mode&unix.S_IFMT == unix.S_IFDIR), r.path)
}

// addFolder allows r's access beneath each entry r allows of the folder
// r.path, from the folder cache; guarded ones are skipped as by addRule.
func addFolder(fd int, handled uint64, r rule, guarded map[fileID]bool) error {
	entries, err := folders.entries(r.path)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !r.allows(e.path, 0) || guarded[e.id] {
			continue
		}
		if err := allow(fd, e.fd, rights(handled, r.access, e.dir), e.path); err != nil {
			return err
		}
	}
	return nil
}

// rights is what a rule of access allows: file rights only on a file.
func rights(handled uint64, acc access, dir bool) uint64 {
	allowed := handled
	if acc == readOnly {
		allowed &= readRights
	}
	if !dir {
		allowed &= fileRights
	}
	return allowed
}

// allow adds the rule "rights beneath the file pfd (at path)" to the
// ruleset fd.
func allow(fd, pfd int, rights uint64, path string) error {
	attr := unix.LandlockPathBeneathAttr{Allowed_access: rights, Parent_fd: int32(pfd)}
	_, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(fd), unix.LANDLOCK_RULE_PATH_BENEATH,
		uintptr(unsafe.Pointer(&attr)), 0, 0, 0)
	if e != 0 {
		return fmt.Errorf("sandbox: allow %s: %w", path, e)
	}
	return nil
}

// fileID is a file's device and inode: what it is, whatever its name.
type fileID struct{ dev, ino uint64 }

// fileIDs are the IDs of those paths that exist.
func fileIDs(paths []string) map[fileID]bool {
	ids := map[fileID]bool{}
	for _, p := range paths {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil {
			ids[fileID{uint64(st.Dev), st.Ino}] = true
		}
	}
	return ids
}

// restrictThread confines the calling thread (and what it starts) to the
// ruleset: no_new_privs first, as Landlock needs without CAP_SYS_ADMIN.
func restrictThread(fd int) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: no_new_privs: %w", err)
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(fd), 0, 0); e != 0 {
		return fmt.Errorf("sandbox: Landlock: %w", e)
	}
	return nil
}
