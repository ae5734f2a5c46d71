// Package pgboot runs a private PostgreSQL server from a data folder of its own, for a
// machine that has the PostgreSQL server programs installed but no server running: a
// newcomer's `make run` then works with nothing to configure.
//
// The folder holds data/ (the cluster), password (the superuser's, generated at initdb) and
// server.log. The server listens on 127.0.0.1 on a free port, with password authentication
// and no unix socket. When run as root it runs as the postgres user (or nobody), because
// PostgreSQL refuses to run as root.
package pgboot

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

// ErrNotInstalled means initdb and pg_ctl were found neither on PATH nor where Debian puts them.
var ErrNotInstalled = errors.New("the PostgreSQL server programs (initdb, pg_ctl) are not installed")

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	dir      string
	bin      string
	port     int
	password string
	owner    *owner
	// started tells whether this process started the server (and so stops it).
	started bool
	// Initialized tells whether this start created the cluster (ran initdb).
	Initialized bool
}

// Start makes sure the cluster in dir exists and runs, and returns it. A cluster that is
// already running (left by an earlier run, or started by another process) is used as is.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	own, err := serverOwner()
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, owner: own}
	if err := c.makeDir(); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := c.initIfMissing(ctx); err != nil {
		return nil, err
	}
	if c.password, err = c.readPassword(); err != nil {
		return nil, err
	}
	if port, ok := c.runningPort(); ok {
		c.port = port
		if c.ping(ctx) == nil {
			return c, nil
		}
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// URL returns the connection URL of the database on the cluster.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Stop stops the server if this process started it (fast shutdown: open sessions end).
func (c *Cluster) Stop() error {
	if !c.started {
		return nil
	}
	c.started = false
	return c.run(context.Background(), "pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop")
}

// Outage stops the server, waits for downtime, and starts it again on the same port, as a
// database restart looks to its clients (fault tests use it).
func (c *Cluster) Outage(ctx context.Context, downtime time.Duration) error {
	if err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop"); err != nil {
		return err
	}
	time.Sleep(downtime)
	return c.startOn(ctx, c.port)
}

func (c *Cluster) dataDir() string      { return filepath.Join(c.dir, "data") }
func (c *Cluster) passwordFile() string { return filepath.Join(c.dir, "password") }

// FindBinaries returns the folder of initdb and pg_ctl: from PATH, or else the newest
// /usr/lib/postgresql/<version>/bin (Debian and Ubuntu keep them off PATH).
func FindBinaries() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(initdb), nil
		}
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(versions, func(i, j int) bool { return versionOf(versions[i]) > versionOf(versions[j]) })
	for _, pgctl := range versions {
		bin := filepath.Dir(pgctl)
		if _, err := os.Stat(filepath.Join(bin, "initdb")); err == nil {
			return bin, nil
		}
	}
	return "", ErrNotInstalled
}

// versionOf returns the major version in /usr/lib/postgresql/<version>/bin/pg_ctl.
func versionOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// initIfMissing creates the folder and runs initdb when the cluster does not exist yet.
func (c *Cluster) initIfMissing(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}
	raw := make([]byte, 18)
	_, _ = rand.Read(raw)
	if err := os.WriteFile(c.passwordFile(), []byte(hex.EncodeToString(raw)+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgboot: write password: %w", err)
	}
	if err := c.owner.chown(c.passwordFile()); err != nil {
		return err
	}
	err := c.run(ctx, "initdb", "-D", c.dataDir(), "-U", "postgres", "--pwfile="+c.passwordFile(),
		"--auth=scram-sha-256", "--encoding=UTF8", "--locale=C")
	if err != nil {
		return err
	}
	c.Initialized = true
	return nil
}

func (c *Cluster) readPassword() (string, error) {
	raw, err := os.ReadFile(c.passwordFile())
	if err != nil {
		return "", fmt.Errorf("pgboot: read the cluster's password: %w", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// runningPort returns the port in postmaster.pid (line 4) when the file exists.
func (c *Cluster) runningPort() (int, bool) {
	f, err := os.Open(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for i := 1; lines.Scan(); i++ {
		if i == 4 {
			port, err := strconv.Atoi(strings.TrimSpace(lines.Text()))
			return port, err == nil
		}
	}
	return 0, false
}

// start starts the server on a free port of 127.0.0.1 and waits until it accepts connections.
func (c *Cluster) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	return c.startOn(ctx, port)
}

func (c *Cluster) startOn(ctx context.Context, port int) error {
	c.port = port
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=''", port)
	err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "server.log"),
		"-o", opts, "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("%w (see %s)", err, filepath.Join(c.dir, "server.log"))
	}
	c.started = true
	return c.ping(ctx)
}

func (c *Cluster) ping(ctx context.Context) error {
	conn, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return conn.PingContext(ctx)
}

// run runs one of the PostgreSQL programs as the server's owner, in its own process group so
// that a Ctrl-C meant for tracetrack does not reach the server it starts.
func (c *Cluster) run(ctx context.Context, program string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, program), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.owner.credential()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgboot: %s failed: %w: %s", program, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// lock takes an exclusive lock on the folder's lock file, so that servers starting together initialize and
// start the cluster once.
func (c *Cluster) lock() (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgboot: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("pgboot: lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgboot: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
