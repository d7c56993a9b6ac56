package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Postgres is a PostgreSQL server on loopback, in a data directory of its
// own, with one trusted superuser.
type Postgres struct {
	// Bin holds the server's and the client's programs of one major version.
	Bin  string
	Port int
	User string

	dir    string
	server *exec.Cmd
	exited chan error
	log    *bytes.Buffer
}

// PostgresBin is where Debian installs a PostgreSQL major version.
func PostgresBin(major string) (string, error) {
	bin := filepath.Join("/usr/lib/postgresql", major, "bin")
	for _, prog := range []string{"initdb", "postgres", "pg_dump", "pg_restore", "psql"} {
		if _, err := os.Stat(filepath.Join(bin, prog)); err != nil {
			return "", fmt.Errorf("drill: PostgreSQL %s is not installed (%s missing): apt-get install postgresql-%s", major, prog, major)
		}
	}
	return bin, nil
}

// StartPostgres initialises a data directory and starts a server of the
// major version on a free loopback port. PostgreSQL refuses to run as root,
// so under root the server runs as the postgres (or nobody) user.
func StartPostgres(ctx context.Context, major string) (*Postgres, error) {
	bin, err := PostgresBin(major)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "drill-postgres-")
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	p := &Postgres{Bin: bin, User: "drill", dir: dir, log: &bytes.Buffer{}, exited: make(chan error, 1)}
	cred, err := serverCredential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "--pgdata", data, "--username", p.User,
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("drill: initdb: %w\n%s", err, out)
	}
	if p.Port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Durability off: the drill measures dump and restore, not fsync.
	p.server = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	p.server.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	p.server.Stdout, p.server.Stderr = p.log, p.log
	if err := p.server.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("drill: start postgres: %w", err)
	}
	go func() { p.exited <- p.server.Wait() }()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// serverCredential is the user the server runs as: the caller, or when
// that is root, an unprivileged user given the directory.
func serverCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("drill: no unprivileged user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("drill: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (p *Postgres) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.SQL(ctx, "postgres", "SELECT 1"); err == nil {
			return nil
		}
		select {
		case err := <-p.exited:
			return fmt.Errorf("drill: postgres exited: %v\n%s", err, p.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: postgres not ready after 30 s\n%s", p.log)
		}
	}
}

// URL is a connection URL of a database on the server.
func (p *Postgres) URL(database string) string {
	return fmt.Sprintf("postgresql://%s@127.0.0.1:%d/%s?sslmode=disable", p.User, p.Port, database)
}

// SQL runs statements with psql and returns what they print, unaligned and
// tuples only: one row a line, fields separated by |.
func (p *Postgres) SQL(ctx context.Context, database, statements string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.Bin, "psql"), "--no-psqlrc", "--quiet", "--tuples-only", "--no-align",
		"--set", "ON_ERROR_STOP=1", "--dbname", p.URL(database), "--command", statements)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("psql %s: %w: %s", database, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// Stop ends the server and removes its directory.
func (p *Postgres) Stop() error {
	var err error
	if p.server != nil && p.server.Process != nil {
		// SIGINT: PostgreSQL's fast shutdown.
		_ = p.server.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = p.server.Process.Kill()
			err = errors.New("drill: postgres did not stop in 20 s")
		}
	}
	return errors.Join(err, os.RemoveAll(p.dir))
}
