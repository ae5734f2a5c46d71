package pgboot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// DefaultDir returns the cluster folder for a checkout: one per checkout in the system's
// temporary directory, so that the postgres user a root process runs the server as can reach
// it wherever the checkout is (root's home and `mktemp -d` folders are closed to that user),
// and two checkouts never share a cluster. The name keeps the checkout's folder name to be
// recognisable and adds a hash of its absolute path to be unique.
func DefaultDir(checkout string) string {
	abs, err := filepath.Abs(checkout)
	if err != nil {
		abs = checkout
	}
	sum := sha256.Sum256([]byte(abs))
	name := unsafeInName.ReplaceAllString(filepath.Base(abs), "_")
	return filepath.Join(os.TempDir(), "tracetrack-pg-"+name+"-"+hex.EncodeToString(sum[:6]))
}

var unsafeInName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// makeDir creates the cluster's folder, owned by the server's owner and closed to everyone
// else. A folder that already exists must be a real folder belonging to this process's user
// or the owner: in a shared temporary directory anyone could have made it first.
func (c *Cluster) makeDir() error {
	if err := c.owner.reachable(c.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("pgboot: create %s: %w", c.dir, err)
	}
	info, err := os.Lstat(c.dir)
	if err != nil {
		return fmt.Errorf("pgboot: %w", err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || (ok && !c.owner.mayOwn(st.Uid)) {
		return fmt.Errorf("pgboot: %s is not a folder of yours (someone else made it, or it is a link); "+
			"remove it or choose another folder with EMBEDDED_PG_DIR", c.dir)
	}
	if err := os.Chmod(c.dir, 0o700); err != nil {
		return fmt.Errorf("pgboot: %w", err)
	}
	return c.owner.chown(c.dir)
}
