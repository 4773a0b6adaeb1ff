// Package pgtest starts a throwaway PostgreSQL 15 (Debian's postgresql-15)
// for tests that need the real server: it trusts the superuser postgres on
// loopback, demands SCRAM from everyone else, and is stopped at the end of
// the test. Tests skip without it unless POSTGRES_REQUIRED=1 (CI).
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/scrolluniversity/platform/internal/toolcache"
)

// Bin is where Debian's postgresql-15 puts the server's programs.
const Bin = "/usr/lib/postgresql/15/bin"

// Available reports whether PostgreSQL 15 is installed; without it a test
// is skipped, or fails when POSTGRES_REQUIRED=1.
func Available(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(Bin, "postgres")); err != nil {
		toolcache.Missing(t, "POSTGRES_REQUIRED", "PostgreSQL 15 is not installed", "apt-get install postgresql-15")
	}
}

// As is the prefix that runs a command as the server's user: PostgreSQL
// refuses to run as root, so a root test runs it as Debian's postgres.
func As() []string {
	if os.Geteuid() == 0 {
		return []string{"runuser", "-u", "postgres", "--"}
	}
	return nil
}

// Chown gives a path to the server's user when the test runs as root.
func Chown(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// Server is a throwaway PostgreSQL 15 on loopback.
type Server struct {
	t *testing.T
	// Dir is its folder; Port its TCP port on 127.0.0.1.
	Dir  string
	Port int
	as   []string // runuser prefix when the test runs as root
}

// Cmd is one of PostgreSQL 15's programs, run as the server's user.
func (p *Server) Cmd(name string, args ...string) *exec.Cmd {
	full := append(append([]string{}, p.as...), append([]string{filepath.Join(Bin, name)}, args...)...)
	return exec.Command(full[0], full[1:]...)
}

// Psql runs psql against the server as user, with a password for SCRAM
// logins ("" for the trusted superuser postgres).
func (p *Server) Psql(user, password string, args ...string) (string, error) {
	cmd := p.Cmd("psql", append([]string{"-X", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1"}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Start initialises a cluster that trusts the superuser on
// loopback and demands SCRAM from everyone else, and stops it at the end.
func Start(t *testing.T) *Server {
	t.Helper()
	p := &Server{t: t, Dir: t.TempDir()}
	if p.as = As(); p.as != nil {
		// PostgreSQL refuses to run as root: Debian's postgres user runs it
		// and owns its folder.
		if err := Chown(p.Dir); err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		if err := os.Chmod(filepath.Dir(p.Dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(p.Dir, "data")
	if out, err := p.Cmd("initdb", "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	hba := "host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := writeAs(p, filepath.Join(data, "pg_hba.conf"), hba); err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.Port, p.Dir)
	if out, err := p.Cmd("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(p.Dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.Dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if out, err := p.Cmd("pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop").CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.Psql("postgres", "", "-c", "SELECT 1"); err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatal("PostgreSQL did not accept connections")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// writeAs writes a file the server's user can read.
func writeAs(p *Server, path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	return Chown(path)
}
