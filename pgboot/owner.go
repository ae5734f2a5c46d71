package pgboot

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// owner is the unprivileged user a root process runs the server as; nil when the process is
// not root and runs the server as itself.
type owner struct {
	name     string
	uid, gid uint32
}

// serverOwner returns the user to run PostgreSQL as: nil for a non-root process, else the
// postgres user, else nobody.
func serverOwner() (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &owner{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("pgboot: running as root, and PostgreSQL refuses root: create a postgres user or set DATABASE_URL")
}

func (o *owner) credential() *syscall.Credential {
	if o == nil {
		return nil
	}
	return &syscall.Credential{Uid: o.uid, Gid: o.gid, Groups: []uint32{}}
}

func (o *owner) chown(path string) error {
	if o == nil {
		return nil
	}
	if err := os.Chown(path, int(o.uid), int(o.gid)); err != nil {
		return fmt.Errorf("pgboot: %w", err)
	}
	return nil
}

// reachable checks that the owner may pass through every existing folder above dir: a
// folder under /root, say, is closed to the postgres user and initdb would fail obscurely.
func (o *owner) reachable(dir string) error {
	if o == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if info, err := os.Stat(p); err == nil && !o.mayEnter(info) {
			return fmt.Errorf("pgboot: the %s user (PostgreSQL refuses to run as root) cannot enter %s; "+
				"choose a folder it can reach with EMBEDDED_PG_DIR (-embedded-pg-dir), or set DATABASE_URL", o.name, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// mayOwn reports whether a folder owned by uid may hold the cluster: this process's or the
// server owner's.
func (o *owner) mayOwn(uid uint32) bool {
	return uid == uint32(os.Geteuid()) || (o != nil && uid == o.uid)
}

func (o *owner) mayEnter(info os.FileInfo) bool {
	mode := info.Mode().Perm()
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return true
	case st.Uid == o.uid:
		return mode&0o100 != 0
	case st.Gid == o.gid:
		return mode&0o010 != 0
	}
	return mode&0o001 != 0
}
